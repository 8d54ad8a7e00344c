"""The last-resort net: email- and phone-like text becomes the keyed hash `identity log-hash`
gives, and exceptions are told without their messages."""

from __future__ import annotations

import time

import pytest

from graphdb.errors import DatabaseUnavailable
from resolvers.runtime.log_scrub import exception_text, scrub
from tests.support.logs import LOG_HASH, leaks


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bob~@example.com", LOG_HASH.email("bob~@example.com")),
        ("a@b.c", LOG_HASH.email("a@b.c")),
        ("Bob~@Example.COM", LOG_HASH.email("bob~@example.com")),
        ("bob~%40example.com", LOG_HASH.email("bob~@example.com")),
        ("bob~%2540example.com", LOG_HASH.email("bob~@example.com")),
        ("o'brien@example.com", LOG_HASH.email("o'brien@example.com")),
        ("555-010-0199", LOG_HASH.phone("5550100199")),
        ("555.010.0199", LOG_HASH.phone("5550100199")),
        ("+1 (555) 010-0199", LOG_HASH.phone("+15550100199")),
        ("5550100199", LOG_HASH.phone("5550100199")),
        ("+735", LOG_HASH.phone("+735")),
    ],
)
def test_identifier_like_text_becomes_the_hash_of_its_canonical_form(
    text: str, expected: str
) -> None:
    assert scrub(text, LOG_HASH) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("to 'bob~@example.com'.", f"to '{LOG_HASH.email('bob~@example.com')}'."),
        ("mail a@b.c.", f"mail {LOG_HASH.email('a@b.c')}."),
        ('{"e": "a@b.c"}', f'{{"e": "{LOG_HASH.email("a@b.c")}"}}'),
        ("tel (555) 010-0199", f"tel ({LOG_HASH.phone('5550100199')}"),
        ("order-5550100199", f"order-{LOG_HASH.phone('5550100199')}"),
    ],
)
def test_the_text_around_a_value_stays(text: str, expected: str) -> None:
    assert scrub(text, LOG_HASH) == expected


def test_anything_with_an_at_inside_is_hashed_whole() -> None:
    text = "GET /x?email=bob~@example.com&next=/ x@localhost " + "q" * 300 + "@example.com"

    scrubbed = scrub(text, LOG_HASH)

    assert leaks(scrubbed, ["bob~@example.com", "x@localhost", "q" * 300 + "@example.com"]) == []
    assert "@" not in scrubbed


@pytest.mark.parametrize(
    "text",
    [
        "POST /identify 200",
        "Uvicorn running on http://192.168.100.200:8000",
        "Neo4j 5.26.30 warmed up in 12.3 s: 4 rounds",
        "Started server process [73519]",
        "Transaction failed and will be retried in 0.9271524523s",
        "@asynccontextmanager",
        LOG_HASH.email("a@b.c"),
        LOG_HASH.token("phone", "1234567890123456"),
    ],
)
def test_ports_versions_short_numbers_addresses_and_hashes_stay(text: str) -> None:
    assert scrub(text, LOG_HASH) == text


def test_hashing_twice_changes_nothing() -> None:
    once = scrub("a@b.c and 555-010-0199 and 0123456789012345", LOG_HASH)

    assert scrub(once, LOG_HASH) == once


def test_long_runs_take_linear_time() -> None:
    started = time.perf_counter()
    for text in ("a" * 200_000, "1-" * 100_000, "a%4" * 70_000, "'a" * 100_000):
        scrub(text, LOG_HASH)

    assert time.perf_counter() - started < 2


PHONE, EMAIL, NOTED = "73519", "bob~@example.com", "a@b.c"


def _raise_chain() -> None:
    # The values come from names: a traceback prints the source lines, which are code, not data.
    try:
        raise ValueError(f"not a phone: {PHONE}")
    except ValueError as error:
        failure = RuntimeError(f"while linking {EMAIL}")
        failure.add_note(f"note: {NOTED}")
        raise failure from error


def test_an_exception_is_told_by_its_frames_and_type_never_its_message() -> None:
    with pytest.raises(RuntimeError) as caught:
        _raise_chain()

    text = exception_text(caught.value)

    assert leaks(text, [PHONE, EMAIL, NOTED]) == []
    assert "ValueError (message not logged)" in text
    assert "direct cause" in text
    assert text.endswith("RuntimeError (message not logged)")
    assert "in _raise_chain" in text


def test_an_exception_group_tells_each_of_its_exceptions() -> None:
    group = ExceptionGroup("many", [KeyError(NOTED), DatabaseUnavailable("Neo4j is down")])

    text = exception_text(group)

    assert "KeyError (message not logged)" in text
    assert "graphdb.errors.DatabaseUnavailable: Neo4j is down" in text
    assert leaks(text, [NOTED]) == []
