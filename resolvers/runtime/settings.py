"""Every setting of the service, read once from the environment (and an optional .env file)."""

from __future__ import annotations

import ipaddress
import math
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import phonenumbers
from starlette.config import Config
from starlette.datastructures import Secret

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    # Unset: the service starts its own local Neo4j from Maven Central jars.
    neo4j_uri: str | None
    neo4j_user: str
    neo4j_password: Secret | None
    neo4j_database: str
    neo4j_bolt_port: int
    neo4j_http_port: int
    neo4j_home: Path
    neo4j_heap: str
    neo4j_page_cache: str
    neo4j_pool_size: int
    # Identify transactions one process runs at once; each commits a batch of requests.
    neo4j_max_in_flight: int
    # Requests one identify transaction holds at most (group commit); 1 turns batching off.
    identify_batch_max: int
    neo4j_connect_timeout: float
    neo4j_retry_time: float
    # Bound on warming Neo4j up at start, before /readyz answers 200; 0 skips it.
    warm_up_seconds: float
    # /readyz is open to anyone: its check of Neo4j runs at most once per this many seconds.
    readyz_cache_seconds: float
    request_timeout: float
    max_body_bytes: int
    log_level: str
    # "json": one JSON object a line, for log pipelines; "text": plain lines, for reading.
    log_format: str
    # uvicorn worker processes ("auto": one per core this process may use); each keeps its own
    # pool of Neo4j connections.
    workers: int
    # Where worker processes share their metrics; unset with WORKERS > 1: a temporary folder.
    prometheus_multiproc_dir: Path | None
    # Origins allowed to call the API from a browser; empty allows none (CORS is closed).
    cors_allow_origins: tuple[str, ...]
    graphql_max_depth: int
    graphql_max_aliases: int
    graphql_max_tokens: int
    graphql_introspection: bool
    # "auto": keys required unless HOST is a loopback address; "required"; "off".
    auth: str
    # Requests per second a key may make when it was created without --rate; bursts of twice it.
    rate_limit_default: float
    # GraphiQL, /docs, /openapi.json and introspection while keys are required.
    expose_dev_tools: bool
    # Host header values served (TrustedHostMiddleware); others get 400 (DNS rebinding).
    allowed_hosts: tuple[str, ...]
    # Seconds a client has to send a whole request body, else 408.
    body_read_timeout: float
    # uvicorn: seconds an idle keep-alive connection stays open; connections served at once.
    keep_alive_seconds: float
    max_connections: int
    # WebSockets one API key may hold open in a process (resolvers.http.middleware.sockets).
    max_sockets_per_key: int
    # The per-install secret of the keyed hashes logs print instead of identifier values.
    log_hash_key: Secret | None
    log_hash_key_file: Path
    # The per-install secret of the ledger's hashes of values (another than the logs').
    ledger_hash_key: Secret | None
    ledger_hash_key_file: Path
    # ISO country a phone without + is read in (E.164 then); unset: such phones keep their digits.
    phone_default_region: str | None
    # Values that never link, beyond the built-in ones (resolvers/core/blocklist.py).
    identifier_blocklist_file: Path | None
    # A value on this many live contacts links no more: a hub.
    max_contacts_per_identifier: int
    # identify holds back a merge that would make a cluster larger than this.
    max_cluster_contacts: int
    # An Idempotency-Key's answer is kept this long; expired keys are purged this often.
    idempotency_key_hours: int
    # New Idempotency-Keys one API key may store per process over IDEMPOTENCY_KEY_HOURS.
    idempotency_keys_per_api_key: int
    idempotency_purge_seconds: float
    # Where the ledger's events are POSTed, and the secret they are signed with.
    webhook_urls: tuple[str, ...]
    webhook_secret: Secret | None
    # Where the secret is read from when WEBHOOK_SECRET is unset (a mounted secret file).
    webhook_secret_file: Path | None
    # Seconds an event may wait for a URL before it is set aside for that URL (a dead letter).
    webhook_max_age_seconds: float

    @property
    def auth_required(self) -> bool:
        if self.auth == "auto":
            return not _is_loopback(self.host)
        return self.auth == "required"

    @property
    def dev_tools_exposed(self) -> bool:
        return self.expose_dev_tools or not self.auth_required

    @classmethod
    def from_environment(cls, env_file: Path | None = PROJECT_ROOT / ".env") -> Settings:
        config = Config(env_file if env_file is not None and env_file.exists() else None)
        password = config("NEO4J_PASSWORD", cast=Secret, default=None)
        log_hash_key = config("LOG_HASH_KEY", cast=Secret, default=None)
        ledger_hash_key = config("LEDGER_HASH_KEY", cast=Secret, default=None)
        webhook_secret = config("WEBHOOK_SECRET", cast=Secret, default=None)
        return cls(
            host=config("HOST", default="127.0.0.1"),
            port=config("PORT", cast=int, default=8000),
            neo4j_uri=config("NEO4J_URI", default=None) or None,
            neo4j_user=config("NEO4J_USER", default="neo4j"),
            neo4j_password=password if password and str(password) else None,
            neo4j_database=config("NEO4J_DATABASE", default="neo4j"),
            neo4j_bolt_port=config("NEO4J_BOLT_PORT", cast=int, default=7687),
            neo4j_http_port=config("NEO4J_HTTP_PORT", cast=int, default=7474),
            neo4j_home=config("NEO4J_HOME_DIR", cast=Path, default=PROJECT_ROOT / ".neo4j" / "dev"),
            neo4j_heap=config("NEO4J_HEAP", default="1g"),
            neo4j_page_cache=config("NEO4J_PAGE_CACHE", default="512m"),
            neo4j_pool_size=config("NEO4J_POOL_SIZE", cast=int, default=64),
            neo4j_max_in_flight=config("NEO4J_MAX_IN_FLIGHT", cast=_positive, default=4),
            identify_batch_max=config("IDENTIFY_BATCH_MAX", cast=_positive, default=64),
            neo4j_connect_timeout=config("NEO4J_CONNECT_TIMEOUT", cast=float, default=3.0),
            neo4j_retry_time=config("NEO4J_RETRY_TIME", cast=float, default=3.0),
            warm_up_seconds=config("WARM_UP_SECONDS", cast=float, default=60.0),
            readyz_cache_seconds=config("READYZ_CACHE_SECONDS", cast=float, default=1.0),
            request_timeout=config("REQUEST_TIMEOUT", cast=float, default=10.0),
            max_body_bytes=config("MAX_BODY_BYTES", cast=int, default=64 * 1024),
            log_level=config("LOG_LEVEL", default="info"),
            log_format=config("LOG_FORMAT", cast=_log_format, default="json"),
            workers=config("WORKERS", cast=workers_of, default="auto"),
            prometheus_multiproc_dir=config(
                "PROMETHEUS_MULTIPROC_DIR", cast=_optional_path, default=""
            ),
            cors_allow_origins=config("CORS_ALLOW_ORIGINS", cast=_comma_list, default=""),
            graphql_max_depth=config("GRAPHQL_MAX_DEPTH", cast=_positive, default=8),
            graphql_max_aliases=config("GRAPHQL_MAX_ALIASES", cast=_positive, default=15),
            graphql_max_tokens=config("GRAPHQL_MAX_TOKENS", cast=_positive, default=2000),
            graphql_introspection=config("GRAPHQL_INTROSPECTION", cast=bool, default=True),
            auth=config("AUTH", cast=_auth_mode, default="auto"),
            rate_limit_default=config("RATE_LIMIT_DEFAULT", cast=_positive_float, default=100.0),
            expose_dev_tools=config("EXPOSE_DEV_TOOLS", cast=bool, default=False),
            allowed_hosts=config(
                "ALLOWED_HOSTS", cast=_comma_list, default="localhost,127.0.0.1,::1,[::1]"
            ),
            body_read_timeout=config("BODY_READ_TIMEOUT", cast=_positive_float, default=10.0),
            keep_alive_seconds=config("KEEP_ALIVE_SECONDS", cast=_positive_float, default=5.0),
            max_connections=config("MAX_CONNECTIONS", cast=_positive, default=1024),
            max_sockets_per_key=config("MAX_SOCKETS_PER_KEY", cast=_positive, default=16),
            log_hash_key=log_hash_key if log_hash_key and str(log_hash_key) else None,
            log_hash_key_file=config(
                "LOG_HASH_KEY_FILE", cast=Path, default=PROJECT_ROOT / ".identity" / "log-hash-key"
            ),
            ledger_hash_key=ledger_hash_key if ledger_hash_key and str(ledger_hash_key) else None,
            ledger_hash_key_file=config(
                "LEDGER_HASH_KEY_FILE",
                cast=Path,
                default=PROJECT_ROOT / ".identity" / "ledger-hash-key",
            ),
            phone_default_region=config("PHONE_DEFAULT_REGION", cast=_phone_region, default=""),
            identifier_blocklist_file=config(
                "IDENTIFIER_BLOCKLIST_FILE", cast=_optional_path, default=""
            ),
            max_contacts_per_identifier=config(
                "MAX_CONTACTS_PER_IDENTIFIER", cast=_link_limit, default=50
            ),
            max_cluster_contacts=config("MAX_CLUSTER_CONTACTS", cast=_link_limit, default=1000),
            idempotency_key_hours=config("IDEMPOTENCY_KEY_HOURS", cast=_positive, default=24),
            idempotency_keys_per_api_key=config(
                "IDEMPOTENCY_KEYS_PER_API_KEY", cast=_positive, default=1_000_000
            ),
            idempotency_purge_seconds=config(
                "IDEMPOTENCY_PURGE_SECONDS", cast=_positive_float, default=600.0
            ),
            webhook_urls=config("WEBHOOK_URLS", cast=_webhook_urls, default=""),
            webhook_secret=webhook_secret if webhook_secret and str(webhook_secret) else None,
            webhook_secret_file=config("WEBHOOK_SECRET_FILE", cast=_optional_path, default=""),
            webhook_max_age_seconds=config(
                "WEBHOOK_MAX_AGE_SECONDS", cast=_positive_float, default=86400.0
            ),
        )


def _phone_region(value: str) -> str | None:
    """An ISO 3166 country code phonenumbers knows (`US`, `GB`, `IN`), or empty for none."""
    region = value.strip().upper()
    if not region:
        return None
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"PHONE_DEFAULT_REGION {value!r} is no region phonenumbers knows")
    return region


def _webhook_urls(value: str) -> tuple[str, ...]:
    """https:// URLs, or http:// ones to this machine: events name contacts, and are signed,
    but a signature hides nothing from whoever reads them on the way."""
    urls = _comma_list(value)
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"WEBHOOK_URLS: {url!r} is no http:// or https:// URL")
        host = urlsplit(url).hostname
        if url.startswith("http://") and not (host is not None and _is_loopback(host)):
            raise ValueError(
                f"WEBHOOK_URLS: {url!r} is plain http to another machine; use https://"
            )
    return urls


def _link_limit(value: str) -> int:
    """1 to 2**31 - 1: Cypher's LIMIT takes a 32-bit integer."""
    limit = _positive(value)
    if limit > 2**31 - 1:
        raise ValueError(f"{value} is more than {2**31 - 1}")
    return limit


def workers_of(value: str) -> int:
    """A positive number, or "auto": the cores this process may run on."""
    return usable_cores() if value.strip().lower() == "auto" else _positive(value)


def usable_cores() -> int:
    """The CPUs this process may run on, and no more than a cgroup's CPU quota allows (a
    container started with --cpus=2 on a 16-core host gets 2)."""
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    quota = _cgroup_cpu_quota(Path("/sys/fs/cgroup/cpu.max"))
    return cores if quota is None else max(1, min(cores, quota))


def _cgroup_cpu_quota(cpu_max: Path) -> int | None:
    """cgroup v2's `<quota> <period>` in whole CPUs, rounded up; None without a quota."""
    try:
        quota, period = cpu_max.read_text().split()[:2]
    except (OSError, ValueError):
        return None
    if quota == "max" or not quota.isdigit() or not period.isdigit() or int(period) == 0:
        return None
    return max(1, math.ceil(int(quota) / int(period)))


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(f"must be a positive whole number, not {value}")
    return number


def _log_format(value: str) -> str:
    if value not in ("json", "text"):
        raise ValueError(f"must be json or text, not {value}")
    return value


def _optional_path(value: str) -> Path | None:
    return Path(value) if value else None


def _comma_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _positive_float(value: str) -> float:
    number = float(value)
    if not (number > 0 and math.isfinite(number)):
        raise ValueError(f"must be a positive number, not {value}")
    return number


def _auth_mode(value: str) -> str:
    if value not in ("auto", "required", "off"):
        raise ValueError(f"must be auto, required or off, not {value}")
    return value


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost: it may resolve to anything
