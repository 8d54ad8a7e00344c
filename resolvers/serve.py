"""`make run`: start a local Neo4j unless NEO4J_URI is set, then serve the app until Ctrl-C."""

from __future__ import annotations

import logging
import sys

import uvicorn

from graphdb.driver import Neo4jConnection
from graphdb.local_server import LocalNeo4j, LocalNeo4jConfig, LocalNeo4jError
from resolvers.app import create_app
from resolvers.settings import Settings


def main() -> int:
    settings = Settings.from_environment()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s %(message)s"
    )
    local: LocalNeo4j | None = None
    try:
        if settings.neo4j_uri is not None:
            password = settings.neo4j_password
            connection = Neo4jConnection(
                settings.neo4j_uri,
                settings.neo4j_user,
                None if password is None else str(password),
                settings.neo4j_database,
            )
        else:
            local = LocalNeo4j(
                LocalNeo4jConfig(
                    home=settings.neo4j_home,
                    bolt_port=settings.neo4j_bolt_port,
                    http_port=settings.neo4j_http_port,
                    heap=settings.neo4j_heap,
                    page_cache=settings.neo4j_page_cache,
                    password=None
                    if settings.neo4j_password is None
                    else str(settings.neo4j_password),
                )
            )
            print(f"Starting Neo4j in {settings.neo4j_home} ...", flush=True)
            local.start()
            connection = Neo4jConnection(local.config.bolt_uri, "neo4j", local.password)
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
