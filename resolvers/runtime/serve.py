"""`identity serve` (`make run`): a local Neo4j unless NEO4J_URI is set, then serve until Ctrl-C."""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import uvicorn

from graphdb.driver import Neo4jConnection
from graphdb.local.server import LocalNeo4j, LocalNeo4jError, running_pid
from resolvers.runtime.logs import configure_logging_from
from resolvers.runtime.settings import Settings
from resolvers.runtime.wiring import configured_connection, local_config, running_local_connection

# Workers are separate processes that get an import string, not objects: everything they need
# reaches them through the environment. (This module must not import resolvers.http.app: that would
# import prometheus_client here before PROMETHEUS_MULTIPROC_DIR is set.)
WORKER_APP = "resolvers.runtime.worker:create_worker_app"


# The largest WebSocket message taken; a larger one closes the socket (1009).
WS_MAX_MESSAGE_BYTES = 64 * 1024


def main() -> int:
    settings = Settings.from_environment()
    configure_logging_from(settings)
    local: LocalNeo4j | None = None
    try:
        with ExitStack() as cleanup:
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
            _export_connection(connection)
            metrics_dir = settings.prometheus_multiproc_dir
            if metrics_dir is None and settings.workers > 1:
                metrics_dir = Path(cleanup.enter_context(tempfile.TemporaryDirectory()))
            if metrics_dir is not None:
                _export_metrics_dir(metrics_dir)
            print(
                f"GraphQL and GraphiQL: http://{settings.host}:{settings.port}/graphql", flush=True
            )
            uvicorn.run(
                WORKER_APP,
                factory=True,
                workers=settings.workers,
                host=settings.host,
                port=settings.port,
                log_level=settings.log_level.lower(),
                # Uvicorn's loggers propagate to the hashing handler set up above.
                log_config=None,
                # resolvers.http.middleware.request_log writes the one access line per request.
                access_log=False,
                # GraphQL subscriptions (/graphql over graphql-transport-ws). uvicorn logs each
                # handshake's path and query string: its loggers go through the hashing
                # handler (resolvers.runtime.logs), which hides an email or phone in them.
                ws="websockets",
                # A subscription's messages are small (a subscribe is a query and its variables):
                # uvicorn's 16 MiB would let one socket hold that much per message.
                ws_max_size=WS_MAX_MESSAGE_BYTES,
                # Slow clients: an idle keep-alive connection is closed after KEEP_ALIVE_SECONDS;
                # with MAX_CONNECTIONS connections open or requests running, a process answers
                # new requests 503 (it still accepts connections). Bodies have a deadline of their
                # own (resolvers.http.middleware.body_limit). uvicorn sets none on the request
                # line and headers (slowloris): its keep-alive timer starts only after a response
                # and any byte received stops it (--timeout-request-start, encode/uvicorn#157, was
                # never done). Such connections count towards MAX_CONNECTIONS, so they can turn
                # every caller away but not grow the work; bounding how long they last is left to
                # a proxy in front (nginx: client_header_timeout). httptools, the parser uvicorn
                # picks, bounds the size of headers no more; h11_max_incomplete_event_size would,
                # but only under --http h11, measured slower (docs/PERFORMANCE.md).
                # uvicorn types the keep-alive as int, but only hands it to loop.call_later.
                timeout_keep_alive=settings.keep_alive_seconds,  # type: ignore[arg-type]
                limit_concurrency=settings.max_connections,
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


def _export_connection(connection: Neo4jConnection) -> None:
    """The local Neo4j's address and password too: the workers are this process's children."""
    os.environ["NEO4J_URI"] = connection.uri
    os.environ["NEO4J_USER"] = connection.user
    os.environ["NEO4J_PASSWORD"] = connection.password or ""
    os.environ["NEO4J_DATABASE"] = connection.database


def _export_metrics_dir(path: Path) -> None:
    # prometheus_client wants the folder emptied between runs: stale files would add old counts.
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


if __name__ == "__main__":
    sys.exit(main())
