"""Which Neo4j the settings point at: NEO4J_URI, or the local server `make run` keeps."""

from __future__ import annotations

import dataclasses

from neo4j import AsyncDriver

from graphdb.driver import Neo4jConnection, create_driver
from graphdb.events import RepositoryEvents
from graphdb.identify_tx import LinkRules
from graphdb.ledger import ValueTokens
from graphdb.local.server import LocalNeo4jConfig, LocalNeo4jError, configured_ports
from graphdb.repository import ContactRepository, RepositoryLimits
from resolvers.core.blocklist import Blocklist
from resolvers.core.identifiers import IdentifierRules
from resolvers.runtime.log_hash import service_ledger_key
from resolvers.runtime.settings import Settings
from resolvers.runtime.webhooks import WebhookConfig


def configured_connection(settings: Settings) -> Neo4jConnection | None:
    """The connection NEO4J_URI gives, or None when the project runs its own Neo4j."""
    if settings.neo4j_uri is None:
        return None
    return Neo4jConnection(
        settings.neo4j_uri, settings.neo4j_user, _password(settings), settings.neo4j_database
    )


def build_repository(
    settings: Settings, connection: Neo4jConnection, events: RepositoryEvents | None = None
) -> tuple[AsyncDriver, ContactRepository]:
    """The driver and the repository on it, as the settings size them; the caller closes both."""
    driver = create_driver(
        connection,
        pool_size=settings.neo4j_pool_size,
        connect_timeout=settings.neo4j_connect_timeout,
        retry_time=settings.neo4j_retry_time,
    )
    limits = RepositoryLimits(
        timeout=settings.request_timeout,
        max_in_flight=settings.neo4j_max_in_flight,
        batch_max=settings.identify_batch_max,
        link=LinkRules(
            max_contacts_per_identifier=settings.max_contacts_per_identifier,
            max_cluster_contacts=settings.max_cluster_contacts,
        ),
        idempotency_hours=settings.idempotency_key_hours,
        idempotency_keys_per_caller=settings.idempotency_keys_per_api_key,
    )
    # The ledger's hashes are under a key of their own: the logs' key opens only the logs.
    ledger_key = service_ledger_key(settings)
    if ledger_key.ephemeral_because is not None:
        # Unlike a log line's, a ledger hash is kept: one under a key of this process's own
        # would match no other worker's, nor any after a restart.
        raise ValueError(ledger_key.ephemeral_because)
    tokens = ValueTokens(ledger_key.key)
    repository = ContactRepository(
        driver,
        connection.database,
        limits,
        events,
        tokens=tokens,
        outbox=bool(settings.webhook_urls),
    )
    return driver, repository


# An HMAC key shorter than its hash's output makes a signature easier to forge than it need be.
MIN_WEBHOOK_SECRET_BYTES = 32


def webhook_config(settings: Settings) -> WebhookConfig | None:
    """The webhooks to deliver to, or None. URLs without a secret (WEBHOOK_SECRET, else the text
    of WEBHOOK_SECRET_FILE), or with one under 32 bytes, stop the start."""
    if not settings.webhook_urls:
        return None
    secret = _webhook_secret(settings)
    if secret is None:
        raise ValueError(
            "WEBHOOK_URLS is set but neither WEBHOOK_SECRET nor WEBHOOK_SECRET_FILE: webhooks "
            "are signed"
        )
    if len(secret) < MIN_WEBHOOK_SECRET_BYTES:
        raise ValueError(
            f"The webhook secret has {len(secret)} bytes; it needs {MIN_WEBHOOK_SECRET_BYTES} "
            "at least (e.g. openssl rand -hex 32)"
        )
    return WebhookConfig(settings.webhook_urls, secret, max_age=settings.webhook_max_age_seconds)


def _webhook_secret(settings: Settings) -> bytes | None:
    if settings.webhook_secret is not None:
        return str(settings.webhook_secret).encode()
    if settings.webhook_secret_file is None:
        return None
    try:
        text = settings.webhook_secret_file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"WEBHOOK_SECRET_FILE cannot be read: {error}") from error
    return text.encode() or None


def identifier_rules(settings: Settings) -> IdentifierRules:
    """PHONE_DEFAULT_REGION and the blocklist; a bad IDENTIFIER_BLOCKLIST_FILE stops the start."""
    return IdentifierRules(
        settings.phone_default_region, Blocklist.from_file(settings.identifier_blocklist_file)
    )


def local_config(settings: Settings) -> LocalNeo4jConfig:
    return LocalNeo4jConfig(
        home=settings.neo4j_home,
        bolt_port=settings.neo4j_bolt_port,
        http_port=settings.neo4j_http_port,
        heap=settings.neo4j_heap,
        page_cache=settings.neo4j_page_cache,
        password=_password(settings),
    )


def running_local_connection(settings: Settings) -> Neo4jConnection:
    """The local server started by `make run`, for tools that use it while it runs."""
    config = local_config(settings)
    # The ports it was started with, which need not be those of this process's environment.
    if (ports := configured_ports(config.home)) is not None:
        config = dataclasses.replace(config, bolt_port=ports[0], http_port=ports[1])
    if not config.password_file.exists():
        raise LocalNeo4jError(
            f"No local Neo4j in {config.home}: start it with `identity neo4j start` "
            "(or `make run`), or set NEO4J_URI."
        )
    return Neo4jConnection(config.bolt_uri, "neo4j", config.password_file.read_text().strip())


def _password(settings: Settings) -> str | None:
    return None if settings.neo4j_password is None else str(settings.neo4j_password)
