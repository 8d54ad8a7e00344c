"""The app one uvicorn worker process serves, built from the environment that
resolvers.runtime.serve set."""

from __future__ import annotations

import gc

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
    app = create_app(settings, connection)
    _collect_garbage_less_often()
    return app


# Every request allocates thousands of objects, nearly all freed by reference counting: with
# Python's default (a young collection every 700 allocations net), the cycle collector took a
# tenth of a worker's CPU under load (perf, 2026-12-08), and its full collections walked every
# module and the GraphQL schema again and again. The objects made at start-up are frozen out of
# its way, and the young generation is collected every 20,000.
_YOUNG_COLLECTION = 20_000


def _collect_garbage_less_often() -> None:
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(_YOUNG_COLLECTION, older, oldest)
