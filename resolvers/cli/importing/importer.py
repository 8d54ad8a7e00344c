"""Applies sorted historical orders through the repository's identify: resumable, a few at once.

Why rows may run concurrently, and which may not. The rows are sorted by created_at. Whether a
row creates a contact depends only on whether its email or phone was seen before (rules 1-3 of
docs/rules.md), that is on the rows before it that share one of its identifiers; clusters are
connected components, which no order changes; a merge keeps the oldest primary by createdAt,
which is the row's own time, not the order of work. So a row only has to wait for the earlier
rows sharing one of its identifiers, and those wait for theirs: every row starts after each
earlier row it could interact with has committed, and the graph is the one a sequential import
makes. (Rows with equal created_at may tie-break a merge by contact id, which follows the order
of work: a different but equally valid primary. The merge rule needs a tie-break; it is not a
duplicate.)

Why resuming makes no duplicates. The checkpoint records the prefix of the sorted order whose
rows are all applied; a resumed import starts there. Rows after it that were applied before
the interruption (or whose commit raced a kill) are applied again: every identifier of such a
row is in the graph by then, in one cluster, so identify finds nothing new and creates nothing.
A row is only ever applied after the earlier rows it depends on, so the applied set is always
closed under that order, and resuming it in order gives the graph of one uninterrupted run.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from graphdb.errors import DatabaseUnavailable
from graphdb.records import IdentifyOutcome
from graphdb.repository import ContactRepository
from resolvers.cli.importing.checkpoint import Checkpoint, OutcomeCounts, save_checkpoint
from resolvers.cli.importing.rows import OrderRow

# Often enough that a kill -9 makes little work to redo; each save is one small file write.
SAVE_INTERVAL = 0.25

RowKey = tuple[str, str]


@dataclass
class ImportReport:
    rows: int  # valid rows in the file
    done: int  # rows applied, from the first in sorted order, over all runs so far
    counts: OutcomeCounts  # outcomes of those rows
    applied_now: int = 0  # rows this run applied
    seconds: float = 0.0
    stopped_by: str | None = None  # the signal's name, when one interrupted the run

    @property
    def rate(self) -> float:
        return self.applied_now / self.seconds if self.seconds else 0.0


class _Progress:
    """Rows complete in any order; the checkpoint advances over the completed prefix."""

    def __init__(self, checkpoint: Checkpoint, path: Path, on_row: Callable[[], None]) -> None:
        self.checkpoint = checkpoint
        self.this_run = OutcomeCounts()
        self._path = path
        self._on_row = on_row
        self._beyond_prefix: dict[int, IdentifyOutcome] = {}
        self._saved_at = time.monotonic()

    def row_done(self, index: int, outcome: IdentifyOutcome) -> None:
        self.this_run.add(outcome)
        self._beyond_prefix[index] = outcome
        while self.checkpoint.done in self._beyond_prefix:
            self.checkpoint.counts.add(self._beyond_prefix.pop(self.checkpoint.done))
            self.checkpoint.done += 1
        if time.monotonic() - self._saved_at >= SAVE_INTERVAL:
            self.save()
        self._on_row()

    def save(self) -> None:
        save_checkpoint(self._path, self.checkpoint)
        self._saved_at = time.monotonic()


async def import_rows(
    repository: ContactRepository,
    rows: list[OrderRow],
    checkpoint: Checkpoint,
    checkpoint_file: Path,
    *,
    concurrency: int,
    limit: int | None = None,
    on_row: Callable[[], None] = lambda: None,
) -> ImportReport:
    """Applies rows [checkpoint.done, +limit); SIGINT or SIGTERM stop it with the checkpoint saved.

    Raises DatabaseUnavailable when Neo4j fails, also with the checkpoint saved.
    """
    stop = len(rows) if limit is None else min(len(rows), checkpoint.done + limit)
    span = range(checkpoint.done, stop)
    progress = _Progress(checkpoint, checkpoint_file, on_row)
    started = time.monotonic()
    stopped_by: str | None = None
    failure: DatabaseUnavailable | None = None
    try:
        with _signals_cancel_this_task() as received:
            try:
                await _apply_in_order(repository, rows, span, concurrency, progress)
            except* DatabaseUnavailable as group:
                failure = DatabaseUnavailable(str(group.exceptions[0]))
    except asyncio.CancelledError:
        if not received:
            raise
        stopped_by = signal.Signals(received[0]).name
    finally:
        progress.save()
    if failure is not None:
        raise failure
    return ImportReport(
        rows=len(rows),
        done=checkpoint.done,
        counts=checkpoint.counts,
        applied_now=progress.this_run.rows,
        seconds=time.monotonic() - started,
        stopped_by=stopped_by,
    )


@contextlib.contextmanager
def _signals_cancel_this_task() -> Iterator[list[int]]:
    """SIGINT and SIGTERM cancel the import's task, so it stops where it is and saves."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    if task is None:
        raise RuntimeError("the import runs in a task")
    received: list[int] = []

    def cancel(signum: int) -> None:
        received.append(signum)
        task.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, cancel, signum)
    try:
        yield received
    except asyncio.CancelledError:
        if received:
            # Our own cancellation, now handled: later awaits (closing the driver) must run.
            task.uncancel()
        raise
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


async def _apply_in_order(
    repository: ContactRepository,
    rows: list[OrderRow],
    span: range,
    concurrency: int,
    progress: _Progress,
) -> None:
    """Each row waits for the last earlier row on each of its identifiers (see module doc)."""
    last_on: dict[RowKey, asyncio.Task[None]] = {}
    window = asyncio.Semaphore(concurrency)

    async def apply(index: int, row: OrderRow, after: set[asyncio.Task[None]]) -> None:
        if after:
            await asyncio.wait(after)
            if any(task.cancelled() or task.exception() is not None for task in after):
                return  # the import is failing; a row whose predecessor failed must not run
        record = await repository.identify_request(row.request)
        progress.row_done(index, record.outcome)

    def forget(row: OrderRow, task: asyncio.Task[None]) -> None:
        window.release()
        for key in row.identifiers:
            if last_on.get(key) is task:
                del last_on[key]

    async with asyncio.TaskGroup() as group:
        for index in span:
            row = rows[index]
            # Dispatch in sorted order, at most `concurrency` rows in flight or waiting.
            await window.acquire()
            after = {last_on[key] for key in row.identifiers if key in last_on}
            task = group.create_task(apply(index, row, after))
            for key in row.identifiers:
                last_on[key] = task
            task.add_done_callback(functools.partial(forget, row))
