"""The app one uvicorn worker process serves, built from the environment that
resolvers.runtime.serve set."""

from __future__ import annotations

from starlette.applications import Starlette

from resolvers.http.app import create_app
from resolvers.runtime.logs import configure_logging_from
from resolvers.runtime.settings import Settings
from resolvers.runtime.wiring import configured_connection


def create_worker_app() -> Starlette:
    """uvicorn's factory: a worker process gets only an import string and the environment."""
    settings = Settings.from_environment()
    # Worker processes start with logging as Python leaves it; uvicorn configures none here.
    configure_logging_from(settings)
    connection = configured_connection(settings)
    if connection is None:
        raise RuntimeError("NEO4J_URI is unset: start the service with `identity serve`")
    return create_app(settings, connection)
