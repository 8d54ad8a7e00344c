"""The handler configure_logging installs: whatever a library hands it (an exception as the
message or as an argument, a bad format, asyncio's dump of a future), no value gets through."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from resolvers.runtime.logs import configure_logging, identify_hashes, note_identifiers
from tests.support.logs import LOG_HASH, leaks, logging_restored

EMAIL, PHONE = "bob~@example.com", "73519"
VALUES = [EMAIL, PHONE]


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    with logging_restored():
        configure_logging("debug", stream=stream, log_hash=LOG_HASH)
        yield stream


def _lines(output: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.getvalue().splitlines()]


def test_an_exception_logged_as_the_message_is_described(output: io.StringIO) -> None:
    # As strawberry logs a GraphQL error: the error object is the message.
    error = ValueError(f"Variable '$phone' got invalid value {PHONE}")
    logging.getLogger("strawberry.execution").error(error, exc_info=error)

    [line] = _lines(output)
    assert line["message"] == "ValueError (message not logged)"
    assert leaks(output.getvalue(), VALUES) == []


def test_an_exception_given_as_an_argument_is_described(output: io.StringIO) -> None:
    # As the neo4j driver logs a retry.
    error = RuntimeError(f"lock on {EMAIL}")
    logging.getLogger("neo4j.pool").warning("will be retried in %ss (%s)", 0.5, error)
    logging.getLogger("tests").warning("%(error)s", {"error": error})

    assert [line["message"] for line in _lines(output)] == [
        "will be retried in 0.5s (RuntimeError (message not logged))",
        "RuntimeError (message not logged)",
    ]


def test_a_bad_format_says_where_instead_of_printing_its_arguments(output: io.StringIO) -> None:
    # Handed to the handler alone: pytest's own capture handler would fail on it first.
    [handler] = [h for h in logging.getLogger().handlers if getattr(h, "stream", None) is output]
    record = logging.getLogger("tests").makeRecord(
        "tests", logging.INFO, "f.py", 7, "%d", (EMAIL,), None
    )

    handler.handle(record)

    [line] = _lines(output)
    assert line["message"] == "unformattable log message at f.py:7"
    assert leaks(output.getvalue(), VALUES) == []


def test_asyncio_keeps_its_first_line(output: io.StringIO) -> None:
    logging.getLogger("asyncio").error(
        "Task exception was never retrieved\nfuture: <Task exception=KeyError('%s')>", PHONE
    )

    [line] = _lines(output)
    assert line["message"] == "Task exception was never retrieved"


def test_uvicorn_access_and_asgi_lines_are_silenced(output: io.StringIO) -> None:
    logging.getLogger("uvicorn.access").info('1.2.3.4 - "GET /c?email=%s HTTP/1.1" 200', EMAIL)
    logging.getLogger("uvicorn.asgi").log(5, "ASGI [1] Started scope=%s", {"path": EMAIL})

    assert output.getvalue() == ""


def test_text_lines_keep_their_time_and_hash_the_rest() -> None:
    stream = io.StringIO()
    with logging_restored():
        configure_logging("info", stream=stream, log_format="text", log_hash=LOG_HASH)
        try:
            raise KeyError(PHONE)
        except KeyError:
            logging.getLogger("tests").exception("failed for %s and 555-010-0199", EMAIL)

    first, *rest = stream.getvalue().splitlines()
    assert first.endswith(
        f" ERROR tests failed for {LOG_HASH.email(EMAIL)} and {LOG_HASH.phone('5550100199')}"
    )
    assert first[:4].isdigit()  # the time, not hashed as a phone
    assert rest[-1] == "KeyError (message not logged)"
    assert leaks(stream.getvalue(), [*VALUES, "555-010-0199"]) == []


@pytest.mark.usefixtures("output")
def test_note_identifiers_keeps_one_hash_a_value() -> None:
    hashes: list[str] = []
    token = identify_hashes.set(hashes)
    try:
        note_identifiers(" Bob~@Example.com", "735-19")
        note_identifiers(EMAIL, None)
    finally:
        identify_hashes.reset(token)
    note_identifiers(EMAIL, PHONE)  # no request under way: nowhere to note

    assert hashes == [LOG_HASH.email(EMAIL), LOG_HASH.phone(PHONE)]
