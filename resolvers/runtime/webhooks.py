"""Webhooks: the ledger's events POSTed to WEBHOOK_URLS, signed, in order, at least once.

One process delivers at a time: the one holding the delivery cursor's lease in Neo4j
(graphdb.outbox). It reads the oldest undelivered events, POSTs each to every URL in turn, and
retries a URL that fails with backoff, holding back the events behind it: every cluster's
events arrive in the order they happened. Once a batch is taken by every URL, it leaves the
outbox and the cursor moves; a crash before that sends the batch again after the restart, so a
receiver may see an event twice, and tells by its id (the X-Identity-Event-Id header, and `id`
in the body).

Each request is signed: X-Identity-Timestamp is the time of sending (Unix seconds), and
X-Identity-Signature is `v1=` and the hex HMAC-SHA256, keyed with WEBHOOK_SECRET, of the
timestamp, a dot, and the body. A receiver recomputes it, and refuses an old timestamp.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import httpx

from graphdb.errors import DatabaseUnavailable
from graphdb.ledger import EventRecord
from graphdb.outbox import Outbox

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Identity-Signature"
TIMESTAMP_HEADER = "X-Identity-Timestamp"
EVENT_ID_HEADER = "X-Identity-Event-Id"


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def event_body(event: EventRecord) -> bytes:
    """The event as the ledger holds it: ids, kinds and keyed hashes, never a value."""
    return json.dumps(
        {
            "id": event.id,
            "at": event.at,
            "kind": event.kind.value,
            "requestId": event.request_id,
            "contactIds": list(event.contact_ids),
            "primaryBefore": event.primary_before,
            "primaryAfter": event.primary_after,
            "bridge": None
            if event.bridge is None
            else {"kind": event.bridge.value, "hash": event.bridge_token},
        },
        separators=(",", ":"),
    ).encode()


class LeaseLost(Exception):
    """Another process holds the delivery lease now (this one stalled past it)."""


class DeliveryEvents(Protocol):
    """Implemented by the metrics."""

    def webhook_attempted(self, ok: bool) -> None: ...

    def webhook_lag(self, seconds: float, waiting: int) -> None: ...

    def webhook_dead_lettered(self, reason: str) -> None: ...


class NoDeliveryEvents:
    """DeliveryEvents that count nothing: a one-off delivery (`identity webhooks replay`)."""

    def webhook_attempted(self, ok: bool) -> None:
        pass

    def webhook_lag(self, seconds: float, waiting: int) -> None:
        pass

    def webhook_dead_lettered(self, reason: str) -> None:
        pass


@dataclass(frozen=True)
class WebhookConfig:
    urls: tuple[str, ...]
    secret: bytes
    # Per POST, the whole of it; a receiver slower than this counts as failed, and is sent the
    # event again.
    timeout: float = 5.0
    # Events read from the outbox at once, and marked delivered together.
    batch: int = 100
    # How often an idle deliverer (or one without the lease) looks again.
    poll: float = 0.5
    # A process that dies holding the lease delays delivery this long at most.
    lease: float = 10.0
    first_backoff: float = 0.5
    max_backoff: float = 10.0
    # An event a URL has not taken by this age is set aside (a dead letter), and the events
    # behind it go on (WEBHOOK_MAX_AGE_SECONDS).
    max_age: float = 86400.0


class WebhookDeliverer:
    def __init__(
        self,
        outbox: Outbox,
        config: WebhookConfig,
        events: DeliveryEvents,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._outbox = outbox
        self._config = config
        self._events = events
        self._client = client or httpx.AsyncClient(timeout=config.timeout)
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._lease_taken = 0.0

    async def run(self) -> None:
        """Delivers until cancelled."""
        try:
            while True:
                try:
                    delivered = await self._round()
                except DatabaseUnavailable as error:
                    log.warning("Webhook delivery paused: %s", error)
                    delivered = 0
                except LeaseLost:
                    log.warning("Webhook delivery lease lost to another process")
                    delivered = 0
                if not delivered:
                    await asyncio.sleep(self._config.poll)
        finally:
            await self._client.aclose()

    async def _round(self) -> int:
        """One batch, if this process holds the lease; how many events it delivered."""
        if not await self._hold_lease():
            return 0
        lag = await self._outbox.lag()
        self._events.webhook_lag(lag.seconds, lag.waiting)
        batch = await self._outbox.undelivered(self._config.batch)
        for event in batch:
            await self._deliver(event)
        if batch:
            await self._outbox.mark_delivered([event.id for event in batch])
        return len(batch)

    async def _hold_lease(self) -> bool:
        """Whether this process holds the delivery lease: taken, or renewed a few times per
        lease, so that no other process takes over (and sends events out of order) while this
        one is alive. Between renewals it asks Neo4j nothing."""
        now = time.monotonic()
        if self._lease_taken and now - self._lease_taken < self._config.lease / 3:
            return True
        held = await self._outbox.take_lease(self._owner, self._config.lease)
        self._lease_taken = now if held else 0.0
        return held

    async def _deliver(self, event: EventRecord) -> None:
        """To every URL, each retried until it takes it; set aside for that URL (a dead letter)
        when it refuses it for good, or has not taken it by the maximum age."""
        body = event_body(event)
        for number, url in enumerate(self._config.urls, 1):
            backoff = self._config.first_backoff
            await self._still_holding()
            while (status := await self._post(number, url, event.id, body)) != DELIVERED:
                reason = _dead_reason(status, event, self._config.max_age)
                if reason is not None:
                    await self._outbox.dead_letter(
                        event.id, number, url_hash(url), reason, status if status > 0 else None
                    )
                    self._events.webhook_dead_lettered(reason)
                    log.warning("Webhook %d: event set aside (%s)", number, reason)
                    break
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._config.max_backoff)
                await self._still_holding()

    async def _still_holding(self) -> None:
        if not await self._hold_lease():
            raise LeaseLost

    async def post_event(self, number: int, url: str, event: EventRecord) -> int:
        """One attempt to deliver this event to this URL, as _deliver makes it (a replay of a
        dead letter: `identity webhooks replay`)."""
        return await self._post(number, url, event.id, event_body(event))

    async def _post(self, number: int, url: str, event_id: str, body: bytes) -> int:
        """One attempt: the answer's status, or NO_ANSWER; the log names the URL by its place in
        WEBHOOK_URLS (a URL may hold a token)."""
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            EVENT_ID_HEADER: event_id,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(self._config.secret, timestamp, body),
        }
        try:
            # One deadline for the whole attempt: httpx's timeout is per step, and a receiver
            # trickling its answer a byte at a time would pass every step. Only the status is
            # read; the body is never taken.
            async with (
                asyncio.timeout(self._config.timeout),
                self._client.stream("POST", url, content=body, headers=headers) as response,
            ):
                status = response.status_code
        except (httpx.HTTPError, TimeoutError) as error:
            log.warning("Webhook %d: %s", number, type(error).__name__)
            self._events.webhook_attempted(ok=False)
            return NO_ANSWER
        ok = 200 <= status < 300
        self._events.webhook_attempted(ok=ok)
        if not ok:
            log.warning("Webhook %d answered %d", number, status)
        return DELIVERED if ok else status


# What _post gives besides a refusal's status.
DELIVERED = 0
NO_ANSWER = -1
# A refusal retrying may change: a timeout the receiver reports, or its own rate limit.
_RETRIED_4XX = frozenset({408, 425, 429})


def _dead_reason(status: int, event: EventRecord, max_age: float) -> str | None:
    """Why an event a URL did not take is set aside now, or None to try again."""
    if 400 <= status < 500 and status not in _RETRIED_4XX:
        return "refused"
    if (datetime.now(UTC) - event.time).total_seconds() > max_age:
        return "too_old"
    return None


def url_hash(url: str) -> str:
    """How a dead letter names its URL: a URL may hold a token."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]
