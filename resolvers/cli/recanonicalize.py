"""`identity recanonicalize [--dry-run]`: every stored email and phone number in its canonical
form under the current settings (PHONE_DEFAULT_REGION, this phonenumbers), values that became
equal joined, with the usual merge rules. Values are printed as keyed hashes unless --show-pii."""

from __future__ import annotations

import asyncio

import click
from neo4j import AsyncDriver

from graphdb.driver import create_driver, ensure_constraints, rolled_back
from graphdb.errors import DatabaseUnavailable, unavailable_as_error
from graphdb.identify_tx import LinkRules
from graphdb.ledger import ValueTokens
from graphdb.local.server import LocalNeo4jError
from graphdb.recanonicalize import Plan, Rewrite, RewriteResult, plan_rewrites, rewrite
from resolvers.core.identifiers import IdentifierRules, InvalidIdentifier
from resolvers.runtime.log_hash import service_ledger_key, service_log_hash
from resolvers.runtime.settings import Settings
from resolvers.runtime.wiring import (
    configured_connection,
    identifier_rules,
    running_local_connection,
)


def canonical_now(rules: IdentifierRules, kind: str, value: str) -> str | None:
    """The form identify would store `value` in today; None when it would refuse it."""
    identifiers = (
        rules.identifiers(value, None) if kind == "email" else rules.identifiers(None, value)
    )
    if isinstance(identifiers, InvalidIdentifier):
        return None
    identifier = identifiers.email if kind == "email" else identifiers.phone
    if identifier is None or identifier.blocked:
        # Linked before the blocklist knew it: rewriting would link through a blocked value.
        return value
    return identifier.value


@click.command(name="recanonicalize")
@click.option("--dry-run", is_flag=True, help="Report what would change; change nothing.")
@click.option("--show-pii", is_flag=True, help="Print values, not their keyed hashes.")
def recanonicalize_command(dry_run: bool, show_pii: bool) -> None:
    """Rewrite stored emails and phones in their canonical form under the current settings.

    Run it after changing PHONE_DEFAULT_REGION or upgrading phonenumbers. Values that become
    equal are joined, and so are their clusters, under MAX_CLUSTER_CONTACTS: a join past it is
    held back and reported (merge with the GraphQL mergeClusters, then run again).
    """
    settings = Settings.from_environment()
    rules = identifier_rules(settings)
    link = LinkRules(settings.max_contacts_per_identifier, settings.max_cluster_contacts)
    log_hash = service_log_hash(settings)
    # The ledger's merge events name their bridge under the ledger's key.
    ledger = ValueTokens(service_ledger_key(settings).key)

    def shown(kind: str, value: str) -> str:
        return value if show_pii else log_hash.token(kind, value)

    async def run() -> tuple[Plan, list[RewriteResult]]:
        connection = configured_connection(settings) or running_local_connection(settings)
        async with create_driver(connection) as driver, unavailable_as_error():
            await ensure_constraints(driver, connection.database)
            plan = await plan_rewrites(
                driver, connection.database, lambda kind, value: canonical_now(rules, kind, value)
            )
            results = [
                await _apply(
                    driver,
                    connection.database,
                    change,
                    link,
                    dry_run,
                    token=ledger(change.kind, change.new),
                    outbox=bool(settings.webhook_urls),
                )
                for change in plan.rewrites
            ]
            return plan, results

    try:
        plan, results = asyncio.run(run())
    except (LocalNeo4jError, DatabaseUnavailable) as error:
        raise click.ClickException(str(error)) from error
    for result in results:
        change = result.rewrite
        old = ", ".join(shown(change.kind, value) for value in change.old)
        joins = f", joins {result.clusters} clusters" if result.clusters > 1 else ""
        state = (
            f"held back: the cluster would have {result.size} contacts"
            if result.held_back
            else (f"{result.contacts} contacts moved" if not dry_run else "would change")
        )
        click.echo(f"{change.kind} {old} -> {shown(change.kind, change.new)}{joins}: {state}")
    for kind, value in plan.invalid:
        click.echo(f"{kind} {shown(kind, value)}: no longer valid, left as it is")
    for kind, value in plan.hubs:
        click.echo(f"{kind} {shown(kind, value)}: a hub, left as it is")
    done = [result for result in results if not result.held_back]
    verb = "would rewrite" if dry_run else "rewrote"
    click.echo(
        f"{verb} {sum(len(r.rewrite.old) for r in done)} value(s), joining "
        f"{sum(r.clusters - 1 for r in done if r.clusters > 1)} cluster(s); "
        f"{len(results) - len(done)} held back, {len(plan.invalid)} invalid, "
        f"{len(plan.hubs)} hub(s) left"
    )


async def _apply(
    driver: AsyncDriver,
    database: str,
    change: Rewrite,
    link: LinkRules,
    dry_run: bool,
    *,
    token: str | None = None,
    outbox: bool = False,
) -> RewriteResult:
    async with driver.session(database=database) as session:
        if not dry_run:
            return await session.execute_write(
                rewrite, change, link, False, token=token, outbox=outbox
            )
        return await rolled_back(session, rewrite, change, link, True)
