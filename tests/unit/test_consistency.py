"""The invariant checker catches each kind of broken graph (no I/O: hand-built graphs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from graphdb.consistency import GraphContact, find_violations

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _contact(
    id: int,
    email: str | None,
    phone: str | None,
    links: tuple[int, ...] = (),
    minutes: int | None = None,
) -> GraphContact:
    return GraphContact(
        id=id,
        email=email,
        phone=phone,
        precedence="secondary" if links else "primary",
        created_at=T0 + timedelta(minutes=id if minutes is None else minutes),
        links=links,
        email_nodes=() if email is None else (email,),
        phone_nodes=() if phone is None else (phone,),
    )


def test_a_healthy_graph_has_no_violations() -> None:
    graph = [_contact(1, "a@x.io", "1001"), _contact(2, "b@x.io", "1001", (1,))]
    assert find_violations(graph) == []


def test_two_primaries_sharing_a_phone_are_caught() -> None:
    graph = [_contact(1, "a@x.io", "1001"), _contact(2, "b@x.io", "1001")]
    assert find_violations(graph) == ["cluster [1, 2] has 2 primaries"]


def test_a_primary_younger_than_its_secondary_is_caught() -> None:
    graph = [_contact(1, "a@x.io", "1001", minutes=5), _contact(2, "b@x.io", "1001", (1,), 1)]
    assert find_violations(graph) == ["cluster [1, 2]: primary 1 is not the oldest (2)"]


def test_a_chain_of_secondaries_is_caught() -> None:
    graph = [
        _contact(1, "a@x.io", "1001"),
        _contact(2, "b@x.io", "1001", (1,)),
        _contact(3, "b@x.io", "1002", (2,)),
    ]
    violations = find_violations(graph)
    assert "secondary 3 links to 2, which is no primary" in violations
    assert "cluster [1, 2, 3]: [3] not linked to 1" in violations


def test_a_duplicate_contact_is_caught() -> None:
    graph = [_contact(1, "a@x.io", "1001"), _contact(2, "a@x.io", "1001", (1,))]
    assert find_violations(graph) == ["contacts 1 and 2 duplicate (a@x.io, 1001)"]


def test_a_missing_identifier_relationship_is_caught() -> None:
    broken = GraphContact(1, "a@x.io", None, "primary", T0, (), (), ())
    assert find_violations([broken]) == ["contact 1: email 'a@x.io' but HAS_EMAIL []"]
