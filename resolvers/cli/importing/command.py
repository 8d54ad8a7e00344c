"""`identity import FILE.csv`: read and check the file, connect, import with a progress bar."""

from __future__ import annotations

import signal
from pathlib import Path

import click
import uvloop
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from graphdb.driver import create_driver
from graphdb.errors import DatabaseUnavailable
from graphdb.ledger import ValueTokens
from graphdb.local.server import LocalNeo4jError
from graphdb.repository import ContactRepository, RepositoryLimits
from resolvers.cli.importing.checkpoint import (
    Checkpoint,
    CheckpointError,
    checkpoint_path,
    load_checkpoint,
)
from resolvers.cli.importing.importer import ImportReport, import_rows
from resolvers.cli.importing.rejected import rejected_path, write_rejected
from resolvers.cli.importing.rows import OrderFile, OrderFileError, read_orders
from resolvers.runtime.log_hash import service_ledger_key
from resolvers.runtime.settings import Settings
from resolvers.runtime.wiring import (
    configured_connection,
    identifier_rules,
    running_local_connection,
)

# A bound on each row's transaction, retries included, and on the start-up planning. Longer than
# a request's: nobody waits on a batch job's answer, and a busy server deserves patience.
IMPORT_TIMEOUT = 60.0


def run_import_command(
    settings: Settings, source: Path, *, concurrency: int, limit: int | None, restart: bool
) -> int:
    """The exit code: 0 once every row is applied or rejected, 128 + signal when interrupted."""
    try:
        orders = read_orders(source, identifier_rules(settings))
        rejected_file = rejected_path(source)
        write_rejected(rejected_file, orders.header, orders.rejected)
        checkpoint_file = checkpoint_path(source)
        if restart:
            checkpoint = Checkpoint(orders.digest)
        else:
            checkpoint = load_checkpoint(checkpoint_file, orders.digest)
        if checkpoint.done == len(orders.rows):
            click.echo("Every row was applied already; --restart applies them again.")
        elif checkpoint.done:
            click.echo(f"Resuming after row {checkpoint.done} of {len(orders.rows)} (sorted).")
        # uvloop, as the service runs on: the import spends much of its time in the event loop.
        report = uvloop.run(
            _import(
                settings, orders, checkpoint, checkpoint_file, concurrency=concurrency, limit=limit
            )
        )
    except (OrderFileError, CheckpointError, LocalNeo4jError, DatabaseUnavailable) as error:
        click.echo(f"error: {error}", err=True)
        if isinstance(error, DatabaseUnavailable) and checkpoint_path(source).exists():
            click.echo("The checkpoint is saved: run the same command again to resume.", err=True)
        return 1
    _echo_summary(source, orders, report, rejected_file)
    if report.stopped_by is not None:
        return 128 + signal.Signals[report.stopped_by].value
    return 0


async def _import(
    settings: Settings,
    orders: OrderFile,
    checkpoint: Checkpoint,
    checkpoint_file: Path,
    *,
    concurrency: int,
    limit: int | None,
) -> ImportReport:
    connection = configured_connection(settings) or running_local_connection(settings)
    limits = RepositoryLimits(
        timeout=max(settings.request_timeout, IMPORT_TIMEOUT),
        max_in_flight=settings.neo4j_max_in_flight,
        batch_max=settings.identify_batch_max,
    )
    todo = len(orders.rows) - checkpoint.done
    if limit is not None:
        todo = min(todo, limit)
    async with create_driver(
        connection,
        pool_size=settings.neo4j_pool_size,
        connect_timeout=settings.neo4j_connect_timeout,
        retry_time=settings.neo4j_retry_time,
    ) as driver:
        # The ledger's events hashed with the install's key, and out to the webhooks, as the
        # service's are.
        repository = ContactRepository(
            driver,
            connection.database,
            limits,
            tokens=ValueTokens(service_ledger_key(settings).key),
            outbox=bool(settings.webhook_urls),
        )
        try:
            await repository.prepare()
            with _progress_bar() as bar:
                task = bar.add_task("importing", total=todo)
                return await import_rows(
                    repository,
                    orders.rows,
                    checkpoint,
                    checkpoint_file,
                    concurrency=concurrency,
                    limit=limit,
                    on_row=lambda: bar.advance(task),
                )
        finally:
            await repository.close()


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        # Progress on stderr, so that stdout holds only the summary.
        console=Console(stderr=True),
    )


def _echo_summary(
    source: Path, orders: OrderFile, report: ImportReport, rejected_file: Path
) -> None:
    counts = report.counts
    if report.stopped_by is not None:
        click.echo(
            f"Stopped by {report.stopped_by}: {report.done} of {report.rows} rows applied in "
            f"created_at order. Run the same command again to resume."
        )
    elif report.done < report.rows:
        click.echo(f"Stopped at the limit: {report.done} of {report.rows} rows applied.")
    lines = [
        f"{source}: {orders.total} rows",
        f"  applied:          {report.done}",
        f"  contacts created: {counts.contacts_created} "
        f"({counts.created_primary} new primaries, {counts.added_secondary} secondaries)",
        f"  merges:           {counts.merged}",
        f"  nothing new:      {counts.nothing_new}",
        f"  rejected:         {len(orders.rejected)} (see {rejected_file})",
        f"  this run:         {report.applied_now} rows in {report.seconds:.1f} s "
        f"({report.rate:.0f} rows/s)",
    ]
    click.echo("\n".join(lines))
