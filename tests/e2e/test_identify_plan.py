"""The identify plan (resolvers.graphql.identify_plan) answers exactly as the GraphQL executor
does: the same status, headers that matter and body, byte for byte, for every document it
takes, and leaves every other document to the executor."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from graphdb.driver import Neo4jConnection
from graphdb.local.server import free_port
from resolvers.graphql import planned_identify
from resolvers.graphql.app import GraphQLApp
from resolvers.http import app as app_module
from resolvers.runtime.settings import Settings
from tests.support.app import app_client

IDENTIFY = """mutation Identify($input: IdentifyInput!) { identify(input: $input) {
  ... on Identity { primaryContactId emails phoneNumbers secondaryContactIds }
  ... on InvalidInput { code message } } }"""
# Aliases, __typename at both levels, the error fragment first, fields in another order.
DRESSED = """mutation ($in: IdentifyInput!) { checkout: identify(input: $in) { __typename
  ... on InvalidInput { field why: message code kind: __typename }
  ... on Identity { ids: secondaryContactIds primaryContactId contactCount phoneNumbers } } }"""
# Documents the plan leaves to the executor.
NAMED_FRAGMENT = """mutation ($input: IdentifyInput!) { identify(input: $input) { ...Seen } }
fragment Seen on Identity { primaryContactId }"""
WITH_DIRECTIVE = """mutation ($input: IdentifyInput!, $all: Boolean!) {
  identify(input: $input) { ... on Identity { primaryContactId emails @include(if: $all) } } }"""
WITH_WARNINGS = """mutation ($input: IdentifyInput!) { identify(input: $input) {
  ... on Identity { primaryContactId warnings { code field } } } }"""
# The same key twice (graphql-core merges the fields).
TWICE = """mutation ($input: IdentifyInput!) { identify(input: $input) { __typename
  ... on Identity { __typename primaryContactId } } }"""
INLINE_INPUT = """mutation { identify(input: {email: "inline@hillvalley.edu"}) {
  ... on Identity { primaryContactId } } }"""


class _Recording(planned_identify.PlannedIdentify):
    answered = 0

    async def __call__(self, view: GraphQLApp, request: Request) -> Response | None:
        response = await super().__call__(view, request)
        if response is not None:
            type(self).answered += 1
        return response


@asynccontextmanager
async def _apps(
    settings: Settings, connection: Neo4jConnection, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """A client of the app as it is, and one of the same app without the plan, on one graph."""
    _Recording.answered = 0
    async with AsyncExitStack() as stack:
        monkeypatch.setattr(app_module, "PlannedIdentify", _Recording)
        planned = await stack.enter_async_context(app_client(settings, connection))
        monkeypatch.setattr(app_module, "PlannedIdentify", lambda _schema: None)
        executed = await stack.enter_async_context(app_client(settings, connection))
        yield planned, executed


@pytest.fixture
async def two_ways(
    neo4j: Neo4jConnection, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    async with _apps(settings, neo4j, monkeypatch) as clients:
        yield clients


async def _both(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> tuple[httpx.Response, httpx.Response]:
    """The same request by the plan, then by the executor: an identify answered once is
    answered alike the second time (its cluster is the answer, nothing is new)."""
    planned, executed = clients
    first = await planned.post("/graphql", json=body, headers=headers)
    second = await executed.post("/graphql", json=body, headers=headers)
    return first, second


async def _compare(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], body: dict[str, Any], *, planned: int
) -> None:
    """Both ways answer alike, and the plan answered `planned` of the two requests."""
    _alike(*await _both(clients, body))
    assert _Recording.answered == planned


def _alike(first: httpx.Response, second: httpx.Response) -> None:
    assert first.status_code == second.status_code
    assert first.content == second.content
    for header in ("content-type", "content-length"):
        assert first.headers[header] == second.headers[header]


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (IDENTIFY, {"input": {"email": "lorraine@hillvalley.edu", "phoneNumber": "123456"}}),
        (IDENTIFY, {"input": {"email": "mcfly@hillvalley.edu"}}),
        (IDENTIFY, {"input": {"phoneNumber": "+1 (555) 010-0199", "email": None}}),
        (DRESSED, {"in": {"email": "george@hillvalley.edu", "phoneNumber": "919191"}}),
        # Answered with InvalidInput.
        (IDENTIFY, {"input": {"email": "not an email"}}),
        (DRESSED, {"in": {"phoneNumber": "12345a"}}),
        (DRESSED, {"in": {}}),
        (IDENTIFY, {"input": {"email": "doc@hillvalley.edu", "idempotencyKey": ""}}),
    ],
)
async def test_the_plan_answers_as_the_executor_does(
    two_ways: tuple[httpx.AsyncClient, httpx.AsyncClient],
    query: str,
    variables: dict[str, Any],
) -> None:
    await _compare(two_ways, {"query": query, "variables": variables}, planned=1)


async def test_an_idempotent_replay_and_a_reused_key_are_answered_alike(
    two_ways: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    body = {"query": IDENTIFY, "variables": {"input": {"email": "biff@hillvalley.edu"}}}
    keyed = {"input": {"email": "biff@hillvalley.edu", "idempotencyKey": "order-88"}}
    other = {"input": {"email": "marty@hillvalley.edu", "idempotencyKey": "order-88"}}
    for variables in (keyed, keyed, other):
        _alike(*await _both(two_ways, {**body, "variables": variables}))
    assert _Recording.answered == 3


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (NAMED_FRAGMENT, {"input": {"email": "a@hillvalley.edu"}}),
        (WITH_DIRECTIVE, {"input": {"email": "b@hillvalley.edu"}, "all": True}),
        (WITH_WARNINGS, {"input": {"email": "c@hillvalley.edu"}}),
        (INLINE_INPUT, {}),
        (TWICE, {"input": {"email": "twice@hillvalley.edu"}}),
        # Variables graphql-core coerces or refuses.
        (IDENTIFY, {"input": {"email": "d@hillvalley.edu", "phoneNumber": 5550100}}),
        (IDENTIFY, {"input": {"email": "e@hillvalley.edu", "extra": "x"}}),
        (IDENTIFY, {"input": None}),
        (IDENTIFY, {}),
        # Not valid: the executor's refusal.
        (IDENTIFY.replace("emails", "emailz"), {"input": {"email": "f@hillvalley.edu"}}),
    ],
)
async def test_other_documents_are_left_to_the_executor(
    two_ways: tuple[httpx.AsyncClient, httpx.AsyncClient],
    query: str,
    variables: dict[str, Any],
) -> None:
    await _compare(two_ways, {"query": query, "variables": variables}, planned=0)


async def test_an_operation_name_that_names_no_operation_is_left_to_the_executor(
    two_ways: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    body = {
        "query": IDENTIFY,
        "variables": {"input": {"email": "g@hillvalley.edu"}},
        "operationName": "Other",
    }
    _alike(*await _both(two_ways, body))
    assert _Recording.answered == 0


async def test_with_neo4j_down_both_answer_503_alike(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    nowhere = Neo4jConnection(f"bolt://127.0.0.1:{free_port()}", "neo4j", "no-password")
    settings = dataclasses.replace(
        Settings.from_environment(env_file=None), neo4j_retry_time=1.0, request_timeout=5.0
    )
    body = {"query": IDENTIFY, "variables": {"input": {"email": "h@hillvalley.edu"}}}
    async with _apps(settings, nowhere, monkeypatch) as clients:
        first, second = await _both(clients, body)
    assert first.status_code == 503
    _alike(first, second)
    assert _Recording.answered == 1
