"""The `identity` command: serve, the local Neo4j, the invariant check, and CSV imports."""

from __future__ import annotations

from pathlib import Path

import click

from graphdb.local.server import (
    LocalNeo4j,
    LocalNeo4jError,
    configured_ports,
    fetch_jars,
    running_pid,
    stop_running,
)
from resolvers.cli import check_graph
from resolvers.cli.importing.command import run_import_command
from resolvers.cli.keys import keys
from resolvers.cli.log_hash import log_hash_command
from resolvers.cli.recanonicalize import recanonicalize_command
from resolvers.cli.webhooks import webhooks
from resolvers.runtime import serve
from resolvers.runtime.logs import configure_logging_from
from resolvers.runtime.settings import Settings
from resolvers.runtime.wiring import local_config

# `identity neo4j status` when none runs: the LSB init-script code for "program is not running".
NOT_RUNNING = 3


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Identity service: links order sightings sharing an email or phone into clusters.

    Settings come from the environment and .env, as for the service (docs/configuration.md).
    """


@main.command(name="serve")
def serve_command() -> None:
    """Serve GraphQL and REST, with a local Neo4j unless NEO4J_URI is set (as `make run`)."""
    raise SystemExit(serve.main())


@main.group()
def neo4j() -> None:
    """The project's local Neo4j, kept in NEO4J_HOME_DIR (default .neo4j/dev)."""


@neo4j.command()
def start() -> None:
    """Start it in the background; it runs until `identity neo4j stop`."""
    config = local_config(Settings.from_environment())
    if (pid := running_pid(config.home)) is None:
        server = LocalNeo4j(config)
        click.echo(f"Starting Neo4j in {config.home} ...")
        try:
            server.start()
        except LocalNeo4jError as error:
            raise click.ClickException(str(error)) from error
        # Not stopped here: the server has a session of its own and outlives this command.
        pid = running_pid(config.home)
        click.echo(f"Neo4j is running (PID {pid}).")
    else:
        click.echo(f"Neo4j is already running (PID {pid}).")
    _echo_addresses(config.home)
    click.echo(f"User neo4j, password in {config.password_file}")


@neo4j.command()
def fetch() -> None:
    """Download its jars from Maven Central now (the first start does it otherwise)."""
    try:
        fetch_jars()
    except LocalNeo4jError as error:
        raise click.ClickException(str(error)) from error
    click.echo("Neo4j's jars are in place.")


@neo4j.command()
def status() -> None:
    """Say whether it runs, with its PID and ports; exit 3 when it does not."""
    home = local_config(Settings.from_environment()).home
    pid = running_pid(home)
    if pid is None:
        click.echo(f"Neo4j is not running (home {home}).")
        raise SystemExit(NOT_RUNNING)
    click.echo(f"Neo4j is running (PID {pid}, home {home}).")
    _echo_addresses(home)


@neo4j.command()
def stop() -> None:
    """Stop it, by the PID it was started with."""
    home = local_config(Settings.from_environment()).home
    pid = stop_running(home)
    if pid is None:
        click.echo(f"Neo4j is not running (home {home}).")
    else:
        click.echo(f"Stopped Neo4j (PID {pid}).")


def _echo_addresses(home: Path) -> None:
    ports = configured_ports(home)
    if ports is not None:
        bolt, http = ports
        click.echo(f"Bolt: bolt://127.0.0.1:{bolt}")
        click.echo(f"Neo4j Browser: http://127.0.0.1:{http}/browser/")


main.add_command(keys)


@main.command()
@click.option(
    "--show-pii",
    is_flag=True,
    help="Print emails and phone numbers as they are; by default, as the logs' keyed hashes.",
)
def check(show_pii: bool) -> None:
    """List every invariant violation in the graph; exit 1 if there is one (`make check-graph`)."""
    raise SystemExit(check_graph.main(show_pii=show_pii))


main.add_command(log_hash_command)
main.add_command(recanonicalize_command)
main.add_command(webhooks)


@main.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--concurrency",
    type=click.IntRange(1, 4096),
    default=256,
    show_default=True,
    help="Rows in flight at once, sharing transactions as the service's concurrent requests do "
    "(rows sharing an email or phone still go in order).",
)
@click.option("--limit", type=click.IntRange(min=1), help="Apply at most N rows, then stop.")
@click.option("--restart", is_flag=True, help="Ignore the checkpoint; start from the first row.")
def import_command(file: Path, concurrency: int, limit: int | None, restart: bool) -> None:
    """Import historical orders from a CSV file with columns created_at, email, phone.

    Rows are applied in created_at order with the service's linking rules. Rejected rows go to
    FILE.rejected.csv with their reasons. Interrupted (Ctrl-C, kill), the same command resumes.
    """
    settings = Settings.from_environment()
    # The repository logs a row that fails on its own data with its error, and the driver the
    # errors it retries: through the service's net, never Python's bare last-resort handler.
    configure_logging_from(settings, log_format="text")
    raise SystemExit(
        run_import_command(settings, file, concurrency=concurrency, limit=limit, restart=restart)
    )
