"""The tests' log hash, and a search of logs and output for any form of an email or phone number."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import quote, quote_plus

from resolvers.core.identifiers import canonical_email_or_error, canonical_phone_or_error
from resolvers.runtime.log_hash import LogHash

# What the `log_output` fixture hashes with.
LOG_HASH = LogHash(b"the tests' log hash key")


def forms(value: str) -> set[str]:
    """The ways a value could show up in a log: as sent, trimmed and lower-cased, canonical
    (a phone's digits, with and without its +), and URL-encoded as a path or a query string."""
    found = {value, value.strip().lower()}
    for canonical in (canonical_email_or_error(value), canonical_phone_or_error(value)):
        if isinstance(canonical, str):
            found |= {canonical, canonical.lstrip("+")}
    found |= {quote(text, safe="") for text in list(found)}
    found |= {quote_plus(text) for text in list(found)}
    return found


def leaks(text: str, values: Iterable[str]) -> list[str]:
    """Each form of each value found in the text, at token boundaries (so that `73519` is not
    found in a duration of 173519.2 or in a hex hash), with the line that holds it."""
    found = []
    for value in values:
        for form in sorted(forms(value)):
            bounded = re.compile(rf"(?<![0-9A-Za-z]){re.escape(form)}(?![0-9A-Za-z])")
            found += [f"{form!r} in {line}" for line in text.splitlines() if bounded.search(line)]
    return found


@contextmanager
def logging_restored() -> Iterator[None]:
    """The root logger's handlers and level as they were, after code that configures logging as
    a process does at start (the service, `identity check`)."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        yield
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
