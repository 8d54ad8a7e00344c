"""Prometheus metrics at /metrics: HTTP requests, identify outcomes and batch sizes, Neo4j retries
and failures.

prometheus_client picks single- or multi-process storage when it is imported:
resolvers.runtime.serve sets PROMETHEUS_MULTIPROC_DIR before any worker process imports this
module, and imports it itself never, so each worker writes its values to a file there and any
worker's /metrics adds them up.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import Response

from graphdb.errors import FAILURE_KINDS
from graphdb.records import IdentifyOutcome, IdentityWarning

HTTP_REQUESTS = Counter(
    "identity_http_requests",
    "HTTP requests answered, by route template (not raw path) and status.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "identity_http_request_duration_seconds",
    "Time from a request's arrival to the last byte of its answer.",
    ["method", "route"],
    # Identify takes milliseconds when Neo4j is well; the top buckets catch the REQUEST_TIMEOUT.
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
IDENTIFY_OUTCOMES = Counter(
    "identity_identify_outcomes",
    "What each committed identify did: created_primary, added_secondary, merged, nothing_new"
    " or merge_held_back.",
    ["outcome"],
)
IDENTIFY_WARNINGS = Counter(
    "identity_identify_warnings",
    "Identify answers warned: a blocked_identifier or hub_identifier that linked nobody, or a"
    " merge_held_back past MAX_CLUSTER_CONTACTS. One per value concerned.",
    ["warning"],
)
TRANSACTION_RETRIES = Counter(
    "identity_neo4j_transaction_retries",
    "Runs of a managed transaction function after its first (the driver retried it).",
    ["transaction"],
)
IDENTIFY_BATCH_SIZE = Histogram(
    "identity_identify_batch_size",
    "Identify requests committed together in one Neo4j transaction (group commit).",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
NEO4J_ERRORS = Counter(
    "identity_neo4j_errors",
    "Neo4j failures that ended a repository call, by kind.",
    ["kind"],
)

WEBHOOK_DELIVERIES = Counter(
    "identity_webhook_deliveries",
    "Webhook POSTs, by result: ok (2xx), failed (another status, or no answer; retried).",
    ["result"],
)
WEBHOOK_DEAD_LETTERS = Counter(
    "identity_webhook_dead_letters",
    "Events a webhook URL did not take, set aside so that the events behind them go on, by"
    " reason: refused (a 4xx retrying would not change), too_old (WEBHOOK_MAX_AGE_SECONDS)."
    " `identity webhooks dead-letters` lists, replays and drops them.",
    ["reason"],
)
# Set by the process delivering (it holds the lease); the most recent value across workers.
WEBHOOK_LAG = Gauge(
    "identity_webhook_lag_seconds",
    "Age of the oldest ledger event not yet delivered to every webhook; 0 when none waits.",
    multiprocess_mode="mostrecent",
)
WEBHOOK_WAITING = Gauge(
    "identity_webhook_waiting_events",
    "Ledger events not yet delivered to every webhook.",
    multiprocess_mode="mostrecent",
)

# Set by each process's upkeep (resolvers.http.app); the most recent value across workers.
STORED_NODES = Gauge(
    "identity_stored_nodes",
    "Nodes each store that grows with requests holds: events (the ledger), idempotency_keys,"
    " conflicts, outbox (events not yet delivered), dead_letters (webhooks'). Read every"
    " IDEMPOTENCY_PURGE_SECONDS.",
    ["store"],
    multiprocess_mode="mostrecent",
)
_STORE_LABELS = {
    "events": "events",
    "idempotencyKeys": "idempotency_keys",
    "conflicts": "conflicts",
    "outbox": "outbox",
    "deadLetters": "dead_letters",
}


def observe_store_sizes(sizes: dict[str, int]) -> None:
    for store, nodes in sizes.items():
        STORED_NODES.labels(_STORE_LABELS[store]).set(nodes)


# Every outcome and kind is shown from the start, at zero, so a rate over them is never missing.
for _outcome in IdentifyOutcome:
    IDENTIFY_OUTCOMES.labels(_outcome.value)
for _warning in IdentityWarning:
    IDENTIFY_WARNINGS.labels(_warning.value)
for _kind in FAILURE_KINDS:
    NEO4J_ERRORS.labels(_kind)
for _result in ("ok", "failed"):
    WEBHOOK_DELIVERIES.labels(_result)
for _reason in ("refused", "too_old"):
    WEBHOOK_DEAD_LETTERS.labels(_reason)


class Neo4jMetrics:
    """The repository's events (graphdb.events.RepositoryEvents), counted."""

    def identified(self, outcome: IdentifyOutcome) -> None:
        IDENTIFY_OUTCOMES.labels(outcome.value).inc()

    def warned(self, warning: IdentityWarning) -> None:
        IDENTIFY_WARNINGS.labels(warning.value).inc()

    def transaction_retried(self, transaction: str) -> None:
        TRANSACTION_RETRIES.labels(transaction).inc()

    def neo4j_failed(self, kind: str) -> None:
        NEO4J_ERRORS.labels(kind).inc()

    def batch_committed(self, size: int) -> None:
        IDENTIFY_BATCH_SIZE.observe(size)


class WebhookMetrics:
    """The webhook deliverer's events (resolvers.runtime.webhooks.DeliveryEvents)."""

    def webhook_attempted(self, ok: bool) -> None:
        WEBHOOK_DELIVERIES.labels("ok" if ok else "failed").inc()

    def webhook_lag(self, seconds: float, waiting: int) -> None:
        WEBHOOK_LAG.set(seconds)
        WEBHOOK_WAITING.set(waiting)

    def webhook_dead_lettered(self, reason: str) -> None:
        WEBHOOK_DEAD_LETTERS.labels(reason).inc()


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_DURATION.labels(method, route).observe(seconds)


async def metrics_endpoint(_request: Request) -> Response:
    return Response(generate_latest(_registry()), headers={"Content-Type": CONTENT_TYPE_LATEST})


def _registry() -> CollectorRegistry:
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return REGISTRY
    # Read afresh at each scrape: the files of every worker, this one's included.
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped upstream
    return registry
