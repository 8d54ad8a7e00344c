"""What a log line may say of text the service does not control: anything that looks like an
email or a phone number becomes its keyed hash, and an exception is told by its type, its Neo4j
code and its frames, never by its message.

This is the last-resort net. It cannot tell a three-digit phone number from a count, so the
guarantee that no identifier reaches a log is made by the code that logs: route templates, never
paths; hashes, never values; exceptions by type. The net catches what slips past that."""

from __future__ import annotations

import re
import traceback
from urllib.parse import unquote

from neo4j.exceptions import Neo4jError

from graphdb.errors import DatabaseUnavailable
from graphdb.ledger import TOKEN_HEX_CHARS
from resolvers.runtime.log_hash import LogHash

# Anything but white space, @ and the characters an unquoted local part cannot hold: broader than
# a valid email on purpose (`bob~@example.com`, `a@b.c`, `x@localhost` and quoted forms are all
# caught). Quotes count as part of it and are peeled off before hashing.
_LOCAL = r"[^\s@<>()\[\]\\,;:]"
_DOMAIN = r"[^\s@<>()\[\]{}\\,;:'\"`]"
# @, and its URL encodings (once and twice encoded).
_AT = r"(?:@|%40|%2540)"
# The separators resolvers.core.identifiers strips from a phone number.
_SEPARATOR = r"[ \-.()\[\]]"
_IDENTIFIER_LIKE = re.compile(
    # A hash already made is kept: its hex digits may hold a run that looks like a phone.
    rf"(?P<token>\b(?:email|phone):[0-9a-f]{{{TOKEN_HEX_CHARS}}}\b)"
    # The local part starts where a run of its characters starts, so that a long run without an
    # @ is scanned once, not once a position.
    rf"|(?P<email>(?<!{_LOCAL}){_LOCAL}+{_AT}{_DOMAIN}+)"
    # Six digits or more, or three or more after a +, with up to two separators between any two
    # (`555-010-0199`, `+1 (555) 010-0199`). Shorter runs would take counts and ports with them.
    rf"|(?P<phone>(?<![\d+])(?:\+\d(?:{_SEPARATOR}{{0,2}}\d){{2,}}"
    rf"|\d(?:{_SEPARATOR}{{0,2}}\d){{5,}})(?!\d))",
    re.IGNORECASE,
)
# Phone-like shapes kept: a dotted IPv4 address (uvicorn's "running on" line) and a number with
# one decimal point (the neo4j driver's "retried in 0.9271524523s"), which no phone is written as.
_KEPT = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}|\d+\.\d+")
_QUOTES = "'\"`"

_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def scrub(text: str, log_hash: LogHash) -> str:
    """`mail bob~@example.com.` -> `mail email:1f0c...d2.`; `555-010-0199` -> `phone:8a3e...`."""
    return _IDENTIFIER_LIKE.sub(lambda match: _replacement(match, log_hash), text)


def _replacement(match: re.Match[str], log_hash: LogHash) -> str:
    if match["token"] is not None:
        return match["token"]
    if match["phone"] is not None:
        phone = match["phone"]
        return phone if _KEPT.fullmatch(phone) else log_hash.phone(phone)
    email = match["email"]
    # Quotes around it and a full stop after it are the sentence's, not the address's: peeled,
    # so that the hash is the one `identity log-hash` gives for the address.
    start = len(email) - len(email.lstrip(_QUOTES))
    end = len(email.rstrip("."))
    return email[:start] + log_hash.email(_url_decoded(email[start:end])) + email[end:]


def _url_decoded(text: str) -> str:
    # Twice at most: %2540 is an @ encoded twice.
    for _ in range(2):
        text = unquote(text)
    return text


def describe_exception(error: BaseException) -> str:
    """`ConstraintError Neo.ClientError.Schema.ConstraintValidationFailed`,
    `RuntimeError (message not logged)`: what a log may say of an exception."""
    if isinstance(error, DatabaseUnavailable):
        return str(error)
    return f"{type(error).__name__}{_detail(error)}"


def exception_text(error: BaseException) -> str:
    """A traceback laid out as Python prints one (the chain of causes, each one's frames), with
    each exception's message replaced by what describe_exception says of it. Messages are where
    values hide: a Neo4j ConstraintValidationFailed quotes the property value, a ValueError often
    repeats its input."""
    parts: list[str] = []
    _append_exception(error, parts, set())
    return "".join(parts).rstrip("\n")


def _append_exception(error: BaseException, parts: list[str], seen: set[int]) -> None:
    seen.add(id(error))
    cause = error.__cause__
    context = None if error.__suppress_context__ else error.__context__
    if cause is not None and id(cause) not in seen:
        _append_exception(cause, parts, seen)
        parts.append(_CAUSE)
    elif context is not None and id(context) not in seen:
        _append_exception(context, parts, seen)
        parts.append(_CONTEXT)
    if error.__traceback__ is not None:
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(error.__traceback__))
    kind = type(error)
    name = kind.__qualname__
    if kind.__module__ != "builtins":
        name = f"{kind.__module__}.{name}"
    parts.append(f"{name}{_detail(error)}\n")
    if isinstance(error, BaseExceptionGroup):
        for number, inner in enumerate(error.exceptions, 1):
            parts.append(f"\n[sub-exception {number} of {name}]\n")
            _append_exception(inner, parts, seen)


def _detail(error: BaseException) -> str:
    if isinstance(error, DatabaseUnavailable):
        # Its messages are made of type names and Neo4j codes alone (graphdb/errors.py).
        return f": {error}"
    if isinstance(error, Neo4jError) and error.code:
        return f" {error.code} (message not logged)"
    return " (message not logged)"
