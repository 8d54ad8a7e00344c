"""`identity serve` (`make run`): a local Neo4j unless NEO4J_URI is set, then serve until Ctrl-C."""

from __future__ import annotations

import sys

import uvicorn

from graphdb.local_server import LocalNeo4j, LocalNeo4jError, running_pid
from resolvers.app import create_app
from resolvers.connection import configured_connection, local_config, running_local_connection
from resolvers.logs import configure_logging
from resolvers.settings import Settings


def main() -> int:
    settings = Settings.from_environment()
    configure_logging(settings.log_level)
    local: LocalNeo4j | None = None
    try:
        connection = configured_connection(settings)
        if connection is None and running_pid(settings.neo4j_home) is not None:
            # Started by `identity neo4j start`: use it, and leave it running on the way out.
            connection = running_local_connection(settings)
            print(f"Using the Neo4j already running from {settings.neo4j_home}", flush=True)
        if connection is None:
            local = LocalNeo4j(local_config(settings))
            print(f"Starting Neo4j in {settings.neo4j_home} ...", flush=True)
            local.start()
            connection = local.connection
            print(
                f"Neo4j Browser: {local.config.http_url}browser/  (user neo4j, password in "
                f"{local.config.password_file})",
                flush=True,
            )
        print(f"GraphQL and GraphiQL: http://{settings.host}:{settings.port}/graphql", flush=True)
        uvicorn.run(
            create_app(settings, connection),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level.lower(),
            # Uvicorn's loggers propagate to the masking handler set up above.
            log_config=None,
        )
    except LocalNeo4jError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        if local is not None:
            print("Stopping Neo4j ...", flush=True)
            local.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
