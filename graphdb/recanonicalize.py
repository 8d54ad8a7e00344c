"""Stored values rewritten in their canonical form under the current rules (a new
PHONE_DEFAULT_REGION, a newer phonenumbers), joining the clusters of values that became equal.

The caller says what each value becomes (graphdb knows no rules); values that become one are a
group, rewritten in one transaction: their nodes locked in the global order, then the primaries
of the clusters they join, so it runs beside the service's traffic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from neo4j import AsyncDriver

from graphdb import cypher
from graphdb.conflicts import lock_primaries, merge_primaries
from graphdb.driver import Tx
from graphdb.identify_tx import LinkRules, cluster_size
from graphdb.ledger import BridgeKind, MergeCause

PAGE = 1000

_LIST = {"email": cypher.LIST_EMAILS, "phone": cypher.LIST_PHONES}
_LOCK = {"email": cypher.LOCK_EMAILS_AND_FIND, "phone": cypher.LOCK_PHONES_AND_FIND}
_MOVE = {"email": cypher.MOVE_EMAILS, "phone": cypher.MOVE_PHONES}


@dataclass(frozen=True)
class Rewrite:
    """Stored values of one kind ("email" or "phone") that all become `new`."""

    kind: str
    new: str
    old: tuple[str, ...]


@dataclass
class RewriteResult:
    rewrite: Rewrite
    contacts: int = 0
    # Clusters the group's values were spread over: more than one are joined.
    clusters: int = 0
    # The join would pass MAX_CLUSTER_CONTACTS: nothing was changed.
    held_back: bool = False
    size: int = 0


@dataclass
class Plan:
    rewrites: list[Rewrite] = field(default_factory=list)
    # Values that are no longer valid, and hubs (their extra contacts keep the old text).
    invalid: list[tuple[str, str]] = field(default_factory=list)
    hubs: list[tuple[str, str]] = field(default_factory=list)


async def plan_rewrites(
    driver: AsyncDriver, database: str, canonical: Callable[[str, str], str | None]
) -> Plan:
    """Reads every stored value; `canonical(kind, value)` is its form now, None if invalid."""
    plan = Plan()
    for kind in ("email", "phone"):
        groups: dict[str, list[str]] = {}
        after = ""
        while True:
            records, _, _ = await driver.execute_query(
                _LIST[kind], page={"after": after, "size": PAGE}, database_=database
            )
            for record in records:
                value, hub = record["value"], record["hub"]
                new = canonical(kind, value)
                if new is None:
                    plan.invalid.append((kind, value))
                elif new != value and hub:
                    plan.hubs.append((kind, value))
                elif new != value:
                    groups.setdefault(new, []).append(value)
            if len(records) < PAGE:
                break
            after = records[-1]["value"]
        plan.rewrites += [Rewrite(kind, new, tuple(old)) for new, old in sorted(groups.items())]
    return plan


async def rewrite(
    tx: Tx,
    change: Rewrite,
    rules: LinkRules,
    dry_run: bool,
    *,
    token: str | None = None,
    outbox: bool = False,
) -> RewriteResult:
    """One group in one transaction. Joins past the cluster cap are held back: nothing changes,
    and the result says so (mergeClusters, then another run, finishes it). The ledger's MERGED
    events name the new value by `token`, its keyed hash."""
    values = sorted({change.new, *change.old})
    result = await tx.run(_LOCK[change.kind], group={"values": values})
    members = [record["contactId"] async for record in result]
    primaries = await lock_primaries(tx, members)
    outcome = RewriteResult(change, clusters=len(set(primaries.values())))
    outcome.size = await cluster_size(tx, sorted({p for _, p in primaries.values()}))
    if outcome.size > rules.max_cluster_contacts and outcome.clusters > 1:
        outcome.held_back = True
        return outcome
    if dry_run:
        return outcome
    move = {
        "new": change.new,
        "old": list(change.old),
        "maxPerIdentifier": rules.max_contacts_per_identifier,
    }
    moved = await (await tx.run(_MOVE[change.kind], move=move)).single(strict=True)
    outcome.contacts = moved["moved"]
    # The clusters now share the value: that is the evidence, and the event points at it (an
    # EVIDENCE edge), so that erasing the value finds the event and takes its hash off it.
    bridge = BridgeKind.EMAIL if change.kind == "email" else BridgeKind.PHONE
    cause = MergeCause(
        bridge,
        token,
        email=change.new if change.kind == "email" else None,
        phone=change.new if change.kind == "phone" else None,
        outbox=outbox,
    )
    await merge_primaries(tx, primaries, rules.relink_chunk, cause)
    return outcome
