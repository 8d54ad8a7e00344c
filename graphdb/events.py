"""What the repository reports as it works (retried transactions, Neo4j failures), for metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, TypeVar

from neo4j import AsyncManagedTransaction

P = ParamSpec("P")
R = TypeVar("R")


class RepositoryEvents(Protocol):
    """Implemented by the service's metrics, so that graphdb imports no metrics library."""

    def transaction_retried(self, transaction: str) -> None: ...

    def neo4j_failed(self, kind: str) -> None: ...


class NoEvents:
    def transaction_retried(self, transaction: str) -> None:
        pass

    def neo4j_failed(self, kind: str) -> None:
        pass


class CountedRuns(Generic[P, R]):
    """A transaction function that reports every run after its first: the driver retried it.

    One instance per call of execute_read/execute_write, so the count is that call's. Counting is
    the one effect outside the transaction, and it is meant to see every run.
    """

    def __init__(
        self,
        work: Callable[Concatenate[AsyncManagedTransaction, P], Awaitable[R]],
        transaction: str,
        events: RepositoryEvents,
    ) -> None:
        self._work = work
        self._transaction = transaction
        self._events = events
        self._runs = 0
        # The driver reads unit_of_work's timeout and metadata off the function it is handed.
        self.timeout: Any = getattr(work, "timeout", None)
        self.metadata: Any = getattr(work, "metadata", None)

    async def __call__(self, tx: AsyncManagedTransaction, *args: P.args, **kwargs: P.kwargs) -> R:
        self._runs += 1
        if self._runs > 1:
            self._events.transaction_retried(self._transaction)
        return await self._work(tx, *args, **kwargs)
