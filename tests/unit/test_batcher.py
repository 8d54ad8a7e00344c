"""How graphdb.batcher forms batches: at once when a slot is free, everything waiting when one
frees up, never two requests on one key together, and each key's requests in arrival order."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
import uvloop

from graphdb.batcher import Batcher


@dataclass(frozen=True)
class Job:
    name: str
    keys: tuple[str, ...]


class Runs:
    """A run function that records each batch and finishes it only when the test says so."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.started_at: list[float] = []
        self.release: list[asyncio.Event] = []
        self.started = asyncio.Condition()

    async def __call__(self, jobs: list[Job]) -> list[str | Exception]:
        release = asyncio.Event()
        async with self.started:
            self.batches.append([job.name for job in jobs])
            self.started_at.append(asyncio.get_running_loop().time())
            self.release.append(release)
            self.started.notify_all()
        await release.wait()
        return [
            ValueError(job.name) if job.name.startswith("bad") else f"{job.name} done"
            for job in jobs
        ]

    async def wait_for_batches(self, count: int) -> None:
        async with asyncio.timeout(5), self.started:
            await self.started.wait_for(lambda: len(self.batches) >= count)

    def finish(self, batch: int) -> None:
        self.release[batch].set()


async def _submitted(batcher: Batcher[Job, str], *jobs: Job) -> list[asyncio.Task[str]]:
    tasks = [asyncio.create_task(batcher.submit(job)) for job in jobs]
    await asyncio.sleep(0)  # each task has queued its job
    return tasks


async def test_a_lone_request_runs_at_once_in_a_batch_of_its_own() -> None:
    runs = Runs()
    batcher: Batcher[Job, str] = Batcher(runs, max_batch=64, slots=2)

    [task] = await _submitted(batcher, Job("a", ("x",)))
    await runs.wait_for_batches(1)
    runs.finish(0)

    assert await task == "a done"
    assert runs.batches == [["a"]]


async def test_requests_arriving_while_every_slot_is_busy_share_the_next_transaction() -> None:
    runs = Runs()
    batcher: Batcher[Job, str] = Batcher(runs, max_batch=3, slots=1)
    first = await _submitted(batcher, Job("a", ("1",)))
    await runs.wait_for_batches(1)

    later = await _submitted(batcher, *(Job(name, (name,)) for name in "bcdef"))
    assert runs.batches == [["a"]]
    runs.finish(0)
    await runs.wait_for_batches(2)
    runs.finish(1)
    await runs.wait_for_batches(3)
    runs.finish(2)

    assert await asyncio.gather(*first, *later) == [f"{name} done" for name in "abcdef"]
    assert runs.batches == [["a"], ["b", "c", "d"], ["e", "f"]]


async def test_requests_sharing_a_key_never_share_a_batch_and_keep_their_order() -> None:
    runs = Runs()
    batcher: Batcher[Job, str] = Batcher(runs, max_batch=64, slots=1)
    await _submitted(batcher, Job("first", ("z",)))
    await runs.wait_for_batches(1)

    await _submitted(
        batcher,
        Job("a1", ("email a", "phone 1")),
        Job("b2", ("email b", "phone 2")),
        Job("a3", ("email a", "phone 3")),  # shares email a with a1
        Job("c1", ("email c", "phone 1")),  # shares phone 1 with a1
        Job("d4", ("email d", "phone 4")),
    )
    for batch in range(2):
        runs.finish(batch)
        await runs.wait_for_batches(batch + 2)
    runs.finish(2)

    assert runs.batches[1:] == [["a1", "b2", "d4"], ["a3", "c1"]]


async def test_a_request_waits_while_one_sharing_its_key_is_in_flight() -> None:
    runs = Runs()
    batcher: Batcher[Job, str] = Batcher(runs, max_batch=64, slots=4)
    await _submitted(batcher, Job("a", ("email a",)))
    await runs.wait_for_batches(1)

    # Slots are free, but "again" shares a key with "a", in flight; "other" shares none.
    await _submitted(batcher, Job("again", ("email a",)), Job("other", ("email b",)))
    await runs.wait_for_batches(2)
    assert runs.batches == [["a"], ["other"]]
    runs.finish(0)
    await runs.wait_for_batches(3)

    assert runs.batches[2] == ["again"]


async def test_a_request_that_fails_fails_alone() -> None:
    runs = Runs()
    batcher: Batcher[Job, str] = Batcher(runs, max_batch=64, slots=1)
    first = await _submitted(batcher, Job("a", ("a",)))
    await runs.wait_for_batches(1)
    good, bad = await _submitted(batcher, Job("good", ("g",)), Job("bad", ("b",)))
    runs.finish(0)
    await runs.wait_for_batches(2)
    runs.finish(1)

    assert await first[0] == "a done"
    assert await good == "good done"
    with pytest.raises(ValueError, match="bad"):
        await bad


async def test_a_failing_run_fails_every_request_of_its_batch_and_frees_the_slot() -> None:
    calls = 0

    async def broken(jobs: list[Job]) -> list[str | Exception]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("lost")
        return [f"{job.name} done" for job in jobs]

    batcher: Batcher[Job, str] = Batcher(broken, max_batch=64, slots=1)
    with pytest.raises(ConnectionError):
        await batcher.submit(Job("a", ("a",)))

    assert await batcher.submit(Job("b", ("a",))) == "b done"


async def test_a_request_cancelled_while_queued_never_runs_and_unblocks_its_key() -> None:
    runs = Runs()
    batcher: Batcher[Job, str] = Batcher(runs, max_batch=64, slots=1)
    await _submitted(batcher, Job("a", ("a",)))
    await runs.wait_for_batches(1)
    gone, behind = await _submitted(batcher, Job("gone", ("b",)), Job("behind", ("b",)))

    gone.cancel()
    await asyncio.sleep(0)
    runs.finish(0)
    await runs.wait_for_batches(2)
    runs.finish(1)

    assert await behind == "behind done"
    assert runs.batches == [["a"], ["behind"]]
    assert gone.cancelled()


async def test_while_a_batch_is_under_way_the_next_waits_for_it_not_for_a_free_slot() -> None:
    runs = Runs()
    batcher: Batcher[Job, str] = Batcher(runs, max_batch=64, slots=4, patience=3600)
    await _submitted(batcher, Job("a", ("a",)))
    await runs.wait_for_batches(1)

    later = await _submitted(batcher, Job("b", ("b",)), Job("c", ("c",)))
    assert runs.batches == [["a"]]
    runs.finish(0)
    await runs.wait_for_batches(2)
    runs.finish(1)

    assert await asyncio.gather(*later) == ["b done", "c done"]
    assert runs.batches == [["a"], ["b", "c"]]
    await batcher.close()


async def test_a_batch_that_stalls_lets_the_next_start_beside_it_after_the_patience() -> None:
    runs = Runs()
    patience = 0.05
    batcher: Batcher[Job, str] = Batcher(runs, max_batch=64, slots=2, patience=patience)
    await _submitted(batcher, Job("stalled", ("a",)))
    await runs.wait_for_batches(1)

    await _submitted(batcher, Job("b", ("b",)))
    # The first batch is never finished: the second can only start beside it.
    await runs.wait_for_batches(2)

    assert runs.batches == [["stalled"], ["b"]]
    assert runs.started_at[1] - runs.started_at[0] >= patience
    runs.finish(0)
    runs.finish(1)
    await batcher.close()


def test_the_patience_timer_works_on_uvloop_as_the_service_runs_it() -> None:
    # uvloop's timer handles are not asyncio's (one due within half a millisecond is a plain
    # Handle, with no when()), and the service runs on uvloop.
    async def scenario() -> list[list[str]]:
        runs = Runs()
        batcher: Batcher[Job, str] = Batcher(runs, max_batch=64, slots=2, patience=0.01)
        await _submitted(batcher, Job("stalled", ("a",)))
        await runs.wait_for_batches(1)
        # Submitted in one go: the second finds the first's wake-up pending.
        await _submitted(batcher, *(Job(name, (name,)) for name in "bcd"))
        await runs.wait_for_batches(2)
        for batch in range(len(runs.release)):
            runs.finish(batch)
        await batcher.close()
        return runs.batches

    batches = uvloop.run(scenario())

    assert batches == [["stalled"], ["b", "c", "d"]]
