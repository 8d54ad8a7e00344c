"""Group commit: requests queue, and each free transaction slot takes the ones waiting then.

No timer holds a request back: one that finds no batch under way goes at once, alone, and waits
for nothing. Under load, requests pile up while a batch runs, and when it ends the next batch
takes them all (up to the batch limit) into one transaction, so the cost of a transaction is
shared by as many requests as arrived during the last one.

Slots: while a batch is under way, another starts only once the youngest batch under way has run
for `patience` (and a slot is free). With one transaction at a time per process, batches are
largest and Neo4j and the driver cheapest per request (docs/PERFORMANCE.md measured 2,540 mix
requests/s against 1,863 with two at a time and 1,513 with four); patience keeps that, yet a
transaction that stalls (waiting on a lock another process holds, reading a huge cluster) does
not hold up every other request of the process: after `patience` the next batch goes beside it.

Requests that share a key (an email or a phone) never share a batch, and a request never starts
while one sharing a key with it is in flight from this process or waits ahead of it: per key,
requests run one after another in arrival order, and they wait here, cheaply, rather than in
Neo4j's lock manager. Correctness does not depend on it (other processes have batchers of their
own; Neo4j's locks are what keeps identify correct, see graphdb.identify_tx).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar


class Keyed(Protocol):
    @property
    def keys(self) -> tuple[Hashable, ...]: ...


RequestT = TypeVar("RequestT", bound=Keyed)
ResultT = TypeVar("ResultT")


@dataclass(eq=False)
class _Waiting(Generic[RequestT, ResultT]):
    request: RequestT
    answer: asyncio.Future[ResultT]


class Batcher(Generic[RequestT, ResultT]):
    """run(requests) answers each request, in order, with its result or the exception it got."""

    def __init__(
        self,
        run: Callable[[list[RequestT]], Awaitable[list[ResultT | Exception]]],
        *,
        max_batch: int,
        slots: int,
        patience: float = 0.0,
    ) -> None:
        if max_batch < 1 or slots < 1:
            raise ValueError("a batch holds at least one request, and there is at least one slot")
        self._run = run
        self._max_batch = max_batch
        self._free_slots = slots
        self._patience = patience
        self._queue: list[_Waiting[RequestT, ResultT]] = []
        # Keys of requests in flight from this process; no two of them share one.
        self._busy: set[Hashable] = set()
        self._batches: set[asyncio.Task[None]] = set()
        # When each batch in flight started (the event loop's clock), and the call that opens
        # another slot once the youngest of them has run for `patience`.
        self._started: list[float] = []
        self._wake: asyncio.TimerHandle | None = None
        self._wake_time = 0.0

    async def submit(self, request: RequestT) -> ResultT:
        waiting: _Waiting[RequestT, ResultT] = _Waiting(
            request, asyncio.get_running_loop().create_future()
        )
        self._queue.append(waiting)
        self._dispatch()
        try:
            return await waiting.answer
        except asyncio.CancelledError:
            # Gone before its batch started: it must not run, and requests queued behind it on
            # one of its keys may go now. (Once started, its batch runs on and its answer is
            # dropped.)
            if waiting in self._queue:
                self._queue.remove(waiting)
                self._dispatch()
            raise

    async def close(self) -> None:
        """Waits for the batches in flight; nothing should be queued by then."""
        if self._wake is not None:
            self._wake.cancel()
        if self._batches:
            await asyncio.gather(*self._batches, return_exceptions=True)

    def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        while self._free_slots and self._queue:
            if self._started and loop.time() < max(self._started) + self._patience:
                # A batch is under way and has not stalled: what waits goes after it, together.
                self._wake_at(max(self._started) + self._patience)
                return
            batch = self._take_batch()
            if not batch:
                return  # everything waiting shares a key with a request in flight
            self._free_slots -= 1
            started = loop.time()
            self._started.append(started)
            task = asyncio.create_task(self._run_batch(batch, started))
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)

    def _wake_at(self, when: float) -> None:
        if self._wake is not None and self._wake_time <= when:
            return  # woken earlier anyway, and it looks again then
        if self._wake is not None:
            self._wake.cancel()
        # uvloop's timer handles do not tell their time, so it is kept here.
        self._wake = asyncio.get_running_loop().call_at(when, self._woken)
        self._wake_time = when

    def _woken(self) -> None:
        self._wake = None
        self._dispatch()

    def _take_batch(self) -> list[_Waiting[RequestT, ResultT]]:
        taken: list[_Waiting[RequestT, ResultT]] = []
        kept: list[_Waiting[RequestT, ResultT]] = []
        # Keys in flight, and keys of requests passed over: a later request on one of them
        # would overtake an earlier one.
        blocked = set(self._busy)
        for position, waiting in enumerate(self._queue):
            if len(taken) == self._max_batch:
                kept += self._queue[position:]
                break
            if waiting.answer.done():
                continue  # cancelled while queued
            keys = waiting.request.keys
            if blocked.isdisjoint(keys):
                taken.append(waiting)
            else:
                kept.append(waiting)
            blocked.update(keys)
        self._queue = kept
        for waiting in taken:
            self._busy.update(waiting.request.keys)
        return taken

    async def _run_batch(self, batch: list[_Waiting[RequestT, ResultT]], started: float) -> None:
        results: list[ResultT | Exception]
        try:
            results = await self._run([waiting.request for waiting in batch])
        except Exception as error:  # run answers per request; this is its own failure
            results = [error] * len(batch)
        except asyncio.CancelledError:
            for waiting in batch:
                waiting.answer.cancel()
            raise
        finally:
            self._free_slots += 1
            self._started.remove(started)
            for waiting in batch:
                self._busy.difference_update(waiting.request.keys)
        for waiting, result in zip(batch, results, strict=True):
            if waiting.answer.done():
                continue  # its caller gave up
            if isinstance(result, Exception):
                waiting.answer.set_exception(result)
            else:
                waiting.answer.set_result(result)
        self._dispatch()
