"""What a GraphQL document's root fields count for, against its key's rate."""

from __future__ import annotations

from graphql import parse

from resolvers.graphql.root_fields import root_fields as counted


def root_fields(query: str, operation_name: str | None) -> int:
    return counted(parse(query), operation_name)


def test_aliases_fragments_and_the_chosen_operation_are_counted() -> None:
    assert root_fields("{ a: contact(id: 1) { id } b: contact(id: 2) { id } }", None) == 2
    assert root_fields("{ __typename contact(id: 1) { id } }", None) == 1
    spread = "query Q { ...F ... on Query { c: contact(id: 3) { id } } } fragment F on Query {"
    assert root_fields(spread + " a: contact(id: 1) { id } b: contact(id: 2) { id } }", "Q") == 3
    two = "query One { contact(id: 1) { id } } query Two { a: contact(id: 1) { id } b: x }"
    assert root_fields(two, "Two") == 2
    assert root_fields(two, "Three") == 0
