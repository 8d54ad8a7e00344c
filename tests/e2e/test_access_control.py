"""The authorisation matrix, against a real service process with AUTH=required on 127.0.0.1 and
two workers: every route and GraphQL field, with no key, a bad key, a revoked key, a key of the
wrong scope and a key of the right one; then revocation and rate limits across the workers."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from neo4j import GraphDatabase

from graphdb.api_keys import ApiKeyStore
from graphdb.driver import Neo4jConnection, create_driver
from resolvers.core.access import KEY_CACHE_SECONDS, Scope, key_hash, new_key
from tests.support.database import WIPE
from tests.support.service import Service

EMAIL = "lorraine@hillvalley.edu"
PHONE = "123456"
# Generous against a loaded machine; the service promises KEY_CACHE_SECONDS (2 s).
REVOKED_WITHIN_SECONDS = 5.0
# Fresh connections spread over both workers; this many makes "one worker only" a failure.
MOST_REQUESTS = 60


@dataclass
class Keys:
    by_scope: dict[Scope, str]
    identify_and_read: str
    revoked: str
    slow: str


async def _make_keys(connection: Neo4jConnection) -> Keys:
    async with create_driver(connection) as driver:
        store = ApiKeyStore(driver, connection.database)

        async def make(name: str, scopes: tuple[Scope, ...], rate: float | None = 1000) -> str:
            key = new_key()
            await store.create(name, key_hash(key), tuple(s.value for s in scopes), rate)
            return key

        return Keys(
            by_scope={scope: await make(f"only-{scope.value}", (scope,)) for scope in Scope},
            identify_and_read=await make("backend", (Scope.IDENTIFY, Scope.READ)),
            revoked=await make("revoked", tuple(Scope)),
            slow=await make("slow", (Scope.IDENTIFY, Scope.READ), rate=2),
        )


async def _revoke(connection: Neo4jConnection, name: str) -> None:
    async with create_driver(connection) as driver:
        assert await ApiKeyStore(driver, connection.database).revoke(name)


def _until_refused(service: Service, key: str) -> None:
    """Revoked a moment ago: polls until the service refuses the key, within the promise."""
    revoked_at = time.monotonic()
    while _metrics_call(service, key, "revoking")[1] != 401:
        assert time.monotonic() - revoked_at < REVOKED_WITHIN_SECONDS


@pytest.fixture(scope="module")
def secured(
    neo4j: Neo4jConnection, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Service, Keys]]:
    auth = (neo4j.user, neo4j.password) if neo4j.password else None
    with GraphDatabase.driver(neo4j.uri, auth=auth) as driver:
        driver.execute_query(WIPE, database_=neo4j.database)
    keys = asyncio.run(_make_keys(neo4j))
    log = tmp_path_factory.mktemp("secured") / "service.log"
    service = Service(
        neo4j,
        log,
        {
            "AUTH": "required", "WORKERS": "2", "WARM_UP_SECONDS": "0", "LOG_LEVEL": "info",
            "LOG_FORMAT": "json", "REQUEST_TIMEOUT": "30",
        },
    )  # fmt: skip
    service.start()
    try:
        # One cluster to read, made with the full key.
        answer = httpx.post(
            f"{service.url}/identify",
            json={"email": EMAIL, "phoneNumber": PHONE},
            headers=_bearer(keys.identify_and_read),
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        # The revoked key was in use (held by the service as valid) when it was revoked.
        assert _metrics_call(service, keys.revoked, "in-use")[1] == 200
        asyncio.run(_revoke(neo4j, "revoked"))
        _until_refused(service, keys.revoked)
        yield service, keys
    finally:
        service.stop()


def _bearer(key: str | None) -> dict[str, str]:
    return {} if key is None else {"Authorization": f"Bearer {key}"}


@dataclass(frozen=True)
class Call:
    name: str
    method: str
    path: str
    body: dict[str, object] | None
    needs: frozenset[Scope]

    @property
    def graphql(self) -> bool:
        return self.path == "/graphql"

    def send(self, service: Service, key: str | None) -> httpx.Response:
        # A new connection each time: over many calls, both workers answer.
        return httpx.request(
            self.method,
            f"{service.url}{self.path}",
            json=self.body,
            headers={**_bearer(key), "X-Request-ID": f"matrix-{time.monotonic_ns()}"},
            timeout=30,
        )


def _graphql(name: str, document: str, *needs: Scope) -> Call:
    return Call(name, "POST", "/graphql", {"query": document}, frozenset(needs))


ID_FIELDS = ("primaryContactId", "secondaryContactIds")
PII_FIELDS = ("emails", "phoneNumbers", "primary { id email }", "contacts { id phoneNumber }")
# A new email each time (ids and PII alike): a refused mutation must be seen writing nothing.
MUTATION = (
    'mutation {{ identify(input: {{email: "{email}", phoneNumber: "{phone}"}}) '
    "{{ ... on Identity {{ {fields} }} }} }}"
)
QUERY = 'query {{ contact(phoneNumber: "' + PHONE + '") {{ {fields} }} }}'


def _mutation(field: str, *needs: Scope) -> Call:
    return _graphql(
        f"mutation {{{field}}}", MUTATION.format(email="{email}", phone=PHONE, fields=field), *needs
    )


CALLS = [
    Call("REST", "POST", "/identify", {"email": EMAIL}, frozenset({Scope.IDENTIFY, Scope.READ})),
    Call("metrics", "GET", "/metrics", None, frozenset({Scope.METRICS})),
    *(_mutation(field, Scope.IDENTIFY) for field in ID_FIELDS),
    *(_mutation(field, Scope.IDENTIFY, Scope.READ) for field in PII_FIELDS),
    *(
        _graphql(f"contact {{{field}}}", QUERY.format(fields=field), Scope.READ)
        for field in ID_FIELDS + PII_FIELDS
    ),
]


def _fresh(call: Call, service: Service, key: str | None) -> tuple[httpx.Response, str | None]:
    """Sends the call, a mutation with an email never seen before; returns it too."""
    if call.body is None or "{email}" not in str(call.body.get("query", "")):
        return call.send(service, key), None
    email = f"matrix{time.monotonic_ns()}@hillvalley.edu"
    document = str(call.body["query"]).replace("{email}", email)
    fresh = Call(call.name, call.method, call.path, {"query": document}, call.needs)
    return fresh.send(service, key), email


def _error_code(call: Call, response: httpx.Response) -> str:
    body = response.json()
    if call.graphql:
        codes: set[str] = {error["extensions"]["code"] for error in body["errors"]}
        assert len(codes) == 1, body
        return codes.pop()
    code: str = body["error"]["code"]
    return code


def _written(service: Service, read_key: str, email: str) -> bool:
    answer = httpx.post(
        f"{service.url}/graphql",
        json={"query": f'{{ contact(email: "{email}") {{ primaryContactId }} }}'},
        headers=_bearer(read_key),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]["contact"] is not None


@pytest.mark.parametrize("call", CALLS, ids=lambda call: call.name)
@pytest.mark.parametrize("who", ["no key", "bad key", "not bearer", "revoked key"])
def test_calls_without_a_valid_key_are_unauthenticated(
    secured: tuple[Service, Keys], call: Call, who: str
) -> None:
    service, keys = secured
    key = {
        "no key": None,
        "bad key": new_key(),
        "not bearer": None,
        "revoked key": keys.revoked,
    }[who]
    if who == "not bearer":
        response = httpx.request(
            call.method,
            f"{service.url}{call.path}",
            json=call.body,
            headers={"Authorization": f"Basic {keys.identify_and_read}"},
            timeout=30,
        )
    else:
        response = call.send(service, key)

    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert _error_code(call, response) == "unauthenticated"


@pytest.mark.parametrize("call", CALLS, ids=lambda call: call.name)
@pytest.mark.parametrize("scope", list(Scope), ids=lambda scope: scope.value)
def test_each_scope_alone_is_served_or_forbidden_by_what_the_call_needs(
    secured: tuple[Service, Keys], call: Call, scope: Scope
) -> None:
    service, keys = secured

    response, email = _fresh(call, service, keys.by_scope[scope])

    if call.needs <= {scope}:
        assert response.status_code == 200, response.text
        if call.graphql:
            body = response.json()
            assert "errors" not in body, body
            assert next(iter(body["data"].values())) is not None
    else:
        assert response.status_code == 403, response.text
        assert _error_code(call, response) == "forbidden"
    if email is not None:
        # Refused before anything ran: a 4xx wrote nothing.
        assert _written(service, keys.by_scope[Scope.READ], email) == (response.status_code == 200)


@pytest.mark.parametrize("call", CALLS, ids=lambda call: call.name)
def test_a_key_with_every_scope_the_call_needs_is_served(
    secured: tuple[Service, Keys], call: Call
) -> None:
    service, keys = secured

    response, _ = _fresh(
        call,
        service,
        keys.identify_and_read if Scope.METRICS not in call.needs else keys.by_scope[Scope.METRICS],
    )

    assert response.status_code == 200, response.text


def test_a_frontend_key_gets_ids_and_is_refused_contact_values_before_anything_is_written(
    secured: tuple[Service, Keys],
) -> None:
    service, keys = secured
    frontend = keys.by_scope[Scope.IDENTIFY]
    ids_only = Call(
        "ids",
        "POST",
        "/graphql",
        {
            "query": MUTATION.format(
                email="{email}", phone=PHONE, fields="primaryContactId secondaryContactIds"
            )
        },
        frozenset(),
    )
    with_emails = Call(
        "emails",
        "POST",
        "/graphql",
        {"query": MUTATION.format(email="{email}", phone=PHONE, fields="primaryContactId emails")},
        frozenset(),
    )

    ids, ids_email = _fresh(ids_only, service, frontend)
    refused, refused_email = _fresh(with_emails, service, frontend)

    assert ids.status_code == 200
    assert isinstance(ids.json()["data"]["identify"]["primaryContactId"], int)
    assert refused.status_code == 403
    assert refused.json()["data"] is None
    assert refused.json()["errors"][0]["extensions"]["code"] == "forbidden"
    assert ids_email is not None
    assert refused_email is not None
    read_key = keys.by_scope[Scope.READ]
    assert _written(service, read_key, ids_email)
    assert not _written(service, read_key, refused_email)


def test_health_stays_open(secured: tuple[Service, Keys]) -> None:
    service, _ = secured

    assert httpx.get(f"{service.url}/healthz", timeout=10).status_code == 200
    assert httpx.get(f"{service.url}/readyz", timeout=10).status_code == 200


def _pids(log: Path, request_ids: set[str]) -> dict[str, int]:
    """The worker that answered each of these requests, from the access lines."""
    pids: dict[str, int] = {}
    for text in log.read_text().splitlines():
        if text.startswith("{"):
            line = json.loads(text)
            if line.get("request_id") in request_ids and "status" in line:
                pids[line["request_id"]] = line["pid"]
    return pids


def _metrics_call(service: Service, key: str, tag: str) -> tuple[str, int]:
    request_id = f"{tag}-{time.monotonic_ns()}"
    response = httpx.get(
        f"{service.url}/metrics",
        headers={**_bearer(key), "X-Request-ID": request_id},
        timeout=30,
    )
    return request_id, response.status_code


def _both_workers(service: Service, statuses: dict[str, int]) -> set[int]:
    return set(_pids(service.log, set(statuses)).values())


def test_a_revoked_key_is_refused_by_every_worker_within_seconds(
    secured: tuple[Service, Keys], neo4j: Neo4jConnection
) -> None:
    service, _ = secured
    key = new_key()

    async def create() -> None:
        async with create_driver(neo4j) as driver:
            await ApiKeyStore(driver, neo4j.database).create(
                "to-revoke", key_hash(key), ("metrics",), None
            )

    asyncio.run(create())
    created_at = time.monotonic()
    # A worker that read its keys in the last half second sees the new key after its next read.
    while _metrics_call(service, key, "new")[1] != 200:
        assert time.monotonic() - created_at < KEY_CACHE_SECONDS
    # Both workers have the key, as valid.
    served: dict[str, int] = {}
    while len(_both_workers(service, served)) < 2:
        assert len(served) < MOST_REQUESTS, "one worker answered every request"
        request_id, status = _metrics_call(service, key, "before")
        if time.monotonic() - created_at >= KEY_CACHE_SECONDS:
            assert status == 200
        served[request_id] = status

    asyncio.run(_revoke(neo4j, "to-revoke"))
    revoked_at = time.monotonic()
    # Until the deadline, any answer may come; after it, every worker refuses.
    while time.monotonic() - revoked_at < REVOKED_WITHIN_SECONDS:
        _metrics_call(service, key, "meanwhile")
    refused: dict[str, int] = {}
    while len(refused) < 8 or len(_both_workers(service, refused)) < 2:
        assert len(refused) < MOST_REQUESTS, "one worker answered every request"
        request_id, status = _metrics_call(service, key, "after")
        refused[request_id] = status

    assert set(refused.values()) == {401}


def test_a_flood_from_one_key_is_answered_429_with_retry_after(
    secured: tuple[Service, Keys],
) -> None:
    service, keys = secured  # the slow key: 2 requests/s, in bursts of 4

    # One connection: one worker, whose count is its own.
    with httpx.Client(base_url=service.url, timeout=30) as client:
        answers = [
            client.post("/identify", json={"email": EMAIL}, headers=_bearer(keys.slow))
            for _ in range(20)
        ]

    limited = [answer for answer in answers if answer.status_code == 429]
    # The access line of a refusal names the key too.
    refused_id = limited[0].headers["X-Request-ID"]
    [line] = [
        json.loads(text)
        for text in service.log.read_text().splitlines()
        if text.startswith("{") and refused_id in text
    ]
    assert (line["status"], line["key"]) == (429, "slow")
    assert {answer.status_code for answer in answers} == {200, 429}
    # A burst of 4; one more if the flood straddles the counter's window.
    assert len(answers) - len(limited) <= 5
    assert limited[0].json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited[0].headers["Retry-After"]) <= 2


def test_the_access_line_names_the_key_never_the_key_itself(
    secured: tuple[Service, Keys],
) -> None:
    service, keys = secured

    request_id, status = _metrics_call(service, keys.by_scope[Scope.METRICS], "named")

    assert status == 200
    log = service.log.read_text()
    [line] = [
        json.loads(text) for text in log.splitlines() if text.startswith("{") and request_id in text
    ]
    assert line["key"] == "only-metrics"
    assert keys.by_scope[Scope.METRICS] not in log


FRAGMENTS = [
    # A named fragment, an alias, and a document whose other operation is the one named.
    'mutation M { identify(input: {email: "{email}"}) { ...Values } } '
    "fragment Values on Identity { primaryContactId emails }",
    'mutation { mine: identify(input: {email: "{email}"}) { ... on Identity { mail: emails } } }',
    'query Q { __typename } mutation M { identify(input: {email: "{email}"}) '
    "{ ... on Identity { phoneNumbers } } }",
]


@pytest.mark.parametrize("document", FRAGMENTS)
def test_a_mutation_reaching_values_by_any_route_is_refused_before_it_runs(
    secured: tuple[Service, Keys], document: str
) -> None:
    service, keys = secured
    email = f"fragment{time.monotonic_ns()}@hillvalley.edu"

    response = httpx.post(
        f"{service.url}/graphql",
        json={"query": document.replace("{email}", email), "operationName": "M"}
        if " M " in document
        else {"query": document.replace("{email}", email)},
        headers=_bearer(keys.by_scope[Scope.IDENTIFY]),
        timeout=30,
    )

    assert response.status_code == 403, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "forbidden"
    assert not _written(service, keys.by_scope[Scope.READ], email)


def test_no_key_ever_reaches_the_log(secured: tuple[Service, Keys]) -> None:
    service, keys = secured
    log = service.log.read_text()

    assert "Bearer" not in log
    for key in (*keys.by_scope.values(), keys.identify_and_read, keys.revoked, keys.slow):
        assert key not in log
        assert key.removeprefix("idk_") not in log
