"""What the repository reports as it works (outcomes, retries, Neo4j failures, batch sizes), for
metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar

from neo4j import AsyncManagedTransaction

from graphdb.records import IdentifyOutcome, IdentityWarning

P = ParamSpec("P")
R = TypeVar("R")


class RepositoryEvents(Protocol):
    """Implemented by the service's metrics, so that graphdb imports no metrics library."""

    def identified(self, outcome: IdentifyOutcome) -> None: ...

    def warned(self, warning: IdentityWarning) -> None: ...

    def transaction_retried(self, transaction: str) -> None: ...

    def neo4j_failed(self, kind: str) -> None: ...

    def batch_committed(self, size: int) -> None: ...


class NoEvents:
    def identified(self, outcome: IdentifyOutcome) -> None:
        pass

    def warned(self, warning: IdentityWarning) -> None:
        pass

    def transaction_retried(self, transaction: str) -> None:
        pass

    def neo4j_failed(self, kind: str) -> None:
        pass

    def batch_committed(self, size: int) -> None:
        pass


class RunsExhausted(Exception):
    """A transaction function ran as often as its caller allows; the driver does not retry this."""


class CountedRuns(Generic[P, R]):
    """A transaction function that reports every run after its first: the driver retried it.

    One instance per call of execute_read/execute_write, so the count is that call's. Counting is
    the one effect outside the transaction, and it is meant to see every run. With max_runs, a
    run beyond it raises RunsExhausted instead, for a caller with a better plan than retrying.
    """

    def __init__(
        self,
        work: Callable[Concatenate[AsyncManagedTransaction, P], Awaitable[R]],
        transaction: str,
        events: RepositoryEvents,
        max_runs: int | None = None,
    ) -> None:
        self._work = work
        self._transaction = transaction
        self._events = events
        self._max_runs = max_runs
        self._runs = 0
        # The driver reads unit_of_work's timeout and metadata off the function it is handed.
        self.timeout: Any = getattr(work, "timeout", None)
        self.metadata: Any = getattr(work, "metadata", None)

    async def __call__(self, tx: AsyncManagedTransaction, *args: P.args, **kwargs: P.kwargs) -> R:
        self._runs += 1
        if self._max_runs is not None and self._runs > self._max_runs:
            raise RunsExhausted(f"{self._transaction} failed {self._max_runs} times")
        if self._runs > 1:
            self._events.transaction_retried(self._transaction)
        return await self._work(tx, *args, **kwargs)
