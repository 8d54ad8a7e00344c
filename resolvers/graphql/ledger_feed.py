"""The ledger, followed live for this process's GraphQL subscriptions (clusterChanged).

One poller per process, however many subscribe, started by the first subscriber and stopped
with the last: it reads the events written since the newest it has seen (graphdb.outbox), over
an overlap window, since a transaction may commit a little after its events' time; events seen
already in the window are not sent twice. A subscriber that cannot keep up loses its oldest
events rather than holding the others back: a subscription is a live view, and the webhooks
are the at-least-once channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from graphdb.errors import DatabaseUnavailable
from graphdb.ledger import EventRecord
from graphdb.outbox import Outbox
from graphdb.records import native_time

log = logging.getLogger(__name__)

# Events a slow subscriber may fall behind by before it loses the oldest.
QUEUE = 1000


class LedgerFeed:
    def __init__(
        self, outbox: Outbox, poll: float = 0.5, overlap: float = 1.0, page: int = 500
    ) -> None:
        self._outbox = outbox
        self._poll = poll
        self._overlap = timedelta(seconds=overlap)
        self._page = page
        self._queues: set[asyncio.Queue[EventRecord]] = set()
        self._poller: asyncio.Task[None] | None = None

    async def subscribe(self) -> AsyncIterator[EventRecord]:
        """Every event written from now on, as long as the caller iterates."""
        queue: asyncio.Queue[EventRecord] = asyncio.Queue(QUEUE)
        self._queues.add(queue)
        if self._poller is None or self._poller.done():
            started = asyncio.get_running_loop().create_future()
            self._poller = asyncio.create_task(self._follow(started))
            await started
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.discard(queue)
            if not self._queues and self._poller is not None:
                self._poller.cancel()
                self._poller = None

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller

    async def _follow(self, started: asyncio.Future[None]) -> None:
        newest: datetime | None = None
        seen: dict[str, datetime] = {}
        while newest is None:
            try:
                newest = native_time(await self._outbox.now())
            except DatabaseUnavailable as error:
                log.warning("Subscriptions wait for Neo4j: %s", error)
                await asyncio.sleep(self._poll * 4)
        started.set_result(None)
        while True:
            # Page by time from the window's start; an event on a page's edge comes twice, and
            # is sent once.
            since = newest - self._overlap
            while True:
                try:
                    events = await self._outbox.events_since(since.isoformat(), self._page)
                except DatabaseUnavailable as error:
                    log.warning("Subscriptions wait for Neo4j: %s", error)
                    break
                except Exception:
                    # The subscribers must not hang on a poller that died: log, and go on.
                    log.exception("Reading the ledger for subscriptions failed")
                    break
                for event in events:
                    at = event.time
                    newest = max(newest, at)
                    if event.id not in seen:
                        seen[event.id] = at
                        # The warm-up's scratch contacts (ids below zero) are nobody's business.
                        if any(contact_id > 0 for contact_id in event.contact_ids):
                            self._publish(event)
                if len(events) < self._page:
                    break
                since = events[-1].time
            horizon = newest - self._overlap
            seen = {event_id: at for event_id, at in seen.items() if at >= horizon}
            await asyncio.sleep(self._poll)

    def _publish(self, event: EventRecord) -> None:
        for queue in self._queues:
            if queue.full():
                queue.get_nowait()  # the oldest goes: a live view, not a log
            queue.put_nowait(event)
