"""Log set-up: one handler, JSON or text, that masks every email and phone number it would print."""

from __future__ import annotations

import logging
import re
import sys
from contextvars import ContextVar
from typing import Any, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

# Set by the request log middleware for the length of a request, so that every line logged while
# serving it carries its id.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# The identify outcomes of the request under way, for its access log line (a GraphQL document
# may hold several): set by the request log middleware, added to by the API that ran identify.
# A list shared by reference, so that resolvers running in tasks of their own add to the same one.
identify_outcomes: ContextVar[list[str] | None] = ContextVar("identify_outcomes", default=None)


def note_outcome(outcome: str) -> None:
    outcomes = identify_outcomes.get()
    if outcomes is not None:
        outcomes.append(outcome)


# Bounded local part (a long run without @ must not cost quadratic time); %40 is a URL's @.
_EMAIL = re.compile(r"([A-Za-z0-9])[A-Za-z0-9._%+'-]{0,63}(?:@|%40)([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# Canonical phones are runs of digits; six or more in a row are masked wherever they appear
# (shorter runs would take ports and counters with them).
_PHONE = re.compile(r"(?<![\d.])\+?\d{6,}(?![\d.])")


def mask(text: str) -> str:
    """`lorraine@hillvalley.edu` -> `l***@hillvalley.edu`; `+15550100199` -> `+*********99`."""
    text = _EMAIL.sub(r"\1***@\2", text)
    return _PHONE.sub(lambda match: _mask_digits(match.group()), text)


def _mask_digits(phone: str) -> str:
    digits_seen = sum(c.isdigit() for c in phone)
    kept = 0
    masked = []
    for char in phone:
        if char.isdigit():
            kept += 1
            masked.append(char if kept > digits_seen - 2 else "*")
        else:
            masked.append(char)
    return "".join(masked)


class MaskingFormatter(logging.Formatter):
    """Masks the whole formatted record, tracebacks and exception messages included."""

    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


class MaskingJsonFormatter(JsonFormatter):
    """One JSON object a line. Values are masked one by one before serialising, as the masking
    formatter masks its text, since masking the serialised line could turn a JSON number of six
    digits or more into something that is not JSON."""

    def __init__(self) -> None:
        super().__init__(
            "{levelname}{name}{process}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger", "process": "pid"},
            timestamp="time",
            # uvicorn adds a copy of its message with terminal colours.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        # The request id is exempt: it exists to be searched for as it is, a generated hex one
        # often holds a run of digits, and an incoming one is refused when it holds an email.
        return {
            key: value if key == "request_id" else _masked(value) for key, value in log_data.items()
        }


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        current = request_id.get()
        if current is not None and not hasattr(record, "request_id"):
            record.request_id = current
        return True


def configure_logging(
    level: str, stream: TextIO = sys.stderr, log_format: str = "json"
) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    if log_format == "json":
        handler.setFormatter(MaskingJsonFormatter())
    else:
        handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(_RequestId())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The driver's DEBUG output is the Bolt wire, parameters and all.
    logging.getLogger("neo4j").setLevel(max(logging.WARNING, root.level))
    return handler
