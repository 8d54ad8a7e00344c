"""Log set-up: one handler, JSON or text, whose lines hold no email or phone number. Where an
operator needs to find a customer's requests, a line carries the keyed hash of the value
(resolvers/runtime/log_hash.py); free text and exceptions pass through resolvers/runtime/
log_scrub.py."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TextIO

import orjson
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from resolvers.runtime.log_hash import LogHash, service_log_hash
from resolvers.runtime.log_scrub import describe_exception, exception_text, scrub
from resolvers.runtime.settings import Settings

# Set by the request log middleware for the length of a request, so that every line logged while
# serving it carries its id.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# The identify outcomes of the request under way, for its access log line (a GraphQL document
# may hold several): set by the request log middleware, added to by the API that ran identify.
# A list shared by reference, so that resolvers running in tasks of their own add to the same one.
identify_outcomes: ContextVar[list[str] | None] = ContextVar("identify_outcomes", default=None)
# Likewise, the keyed hashes of the emails and phones those identifies were given.
identify_hashes: ContextVar[list[str] | None] = ContextVar("identify_hashes", default=None)

# JSON fields printed as they are: the formatter's own timestamp (its digits look like a phone
# number) and the request id, which the request log middleware admits only when it can hold no
# email or formatted phone number, and which must be searchable as the client sent it.
_TRUSTED_FIELDS = frozenset({"time", "request_id"})
# uvicorn's access lines carry the raw path and query string, and at TRACE its "uvicorn.asgi"
# logger prints every ASGI message with its headers: the request log middleware replaces both.
_SILENCED_LOGGERS = ("uvicorn.access", "uvicorn.asgi")

_Raised = tuple[type[BaseException], BaseException, TracebackType | None]
_ExcInfo = _Raised | tuple[None, None, None]


class _Installed:
    """The hash the configured handler uses: logging is process-wide, and so is its key. And the
    handler itself when it writes JSON, for access lines (log_access)."""

    log_hash: LogHash | None = None
    json_handler: logging.StreamHandler[TextIO] | None = None


def log_access(logger_name: str, message: str, fields: dict[str, object]) -> None:
    """One access line, at INFO on `logger_name`. Its fields are safe by construction (a
    validated request id, a route template, a status, keyed hashes), but for an API key's name,
    which an operator chose and which goes through the net. While configure_logging's JSON
    handler is the only one, the line is serialised here (orjson) and written to its stream at
    once: a tenth of what the logging machinery costs (a record, its copy, the formatter, the
    net over every field), on every request. Any other set-up gets it through logging."""
    logger = logging.getLogger(logger_name)
    if not logger.isEnabledFor(logging.INFO):
        return
    handler, log_hash = _Installed.json_handler, _Installed.log_hash
    root = logging.getLogger()
    if (
        handler is None
        or log_hash is None
        or root.handlers != [handler]
        or not logger.propagate
        or logger.handlers
    ):
        logger.info(message, extra=fields)
        return
    if isinstance(key := fields.get("key"), str):
        fields = {**fields, "key": scrub(key, log_hash)}
    line = orjson.dumps(
        {
            "level": "INFO",
            "logger": logger_name,
            "pid": os.getpid(),
            "message": message,
            **fields,
            "time": datetime.now(UTC).isoformat(),
        }
    )
    handler.acquire()
    try:
        handler.stream.write(line.decode() + "\n")
        handler.flush()
    finally:
        handler.release()


def note_outcome(outcome: str) -> None:
    outcomes = identify_outcomes.get()
    if outcomes is not None:
        outcomes.append(outcome)


def note_identifiers(email: str | None, phone: str | None) -> None:
    """For the access line: the keyed hashes of an identify's email and phone, never the values.
    A no-op until configure_logging has set the key."""
    hashes = identify_hashes.get()
    log_hash = _Installed.log_hash
    if hashes is None or log_hash is None:
        return
    tokens = [
        *([] if email is None else [log_hash.email(email)]),
        *([] if phone is None else [log_hash.phone(phone)]),
    ]
    hashes.extend(token for token in tokens if token not in hashes)


class HashingFormatter(logging.Formatter):
    """Plain lines: the message, exception and stack go through the net; the time and level are
    the formatter's own."""

    def __init__(self, fmt: str, log_hash: LogHash) -> None:
        super().__init__(fmt)
        self._log_hash = log_hash

    def format(self, record: logging.LogRecord) -> str:
        safe = _safe_copy(record)
        safe.msg = scrub(safe.msg, self._log_hash)
        return super().format(safe)

    def formatException(self, ei: _ExcInfo) -> str:  # noqa: N802 - logging's name
        return scrub(_exception_text(ei), self._log_hash)

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's name
        return scrub(stack_info, self._log_hash)


class HashingJsonFormatter(JsonFormatter):
    """One JSON object a line. Values go through the net one by one before serialising, since
    hashing the serialised line could break its JSON; numbers stay numbers."""

    def __init__(self, log_hash: LogHash) -> None:
        super().__init__(
            "{levelname}{name}{process}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger", "process": "pid"},
            timestamp="time",
            # uvicorn adds a copy of its message with terminal colours.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )
        self._log_hash = log_hash

    def format(self, record: logging.LogRecord) -> str:
        return super().format(_safe_copy(record))

    def formatException(self, ei: _ExcInfo) -> str:  # noqa: N802 - logging's name
        return _exception_text(ei)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {
            key: value if key in _TRUSTED_FIELDS else self._scrubbed(value)
            for key, value in log_data.items()
        }

    def _scrubbed(self, value: Any) -> Any:
        if isinstance(value, str):
            return scrub(value, self._log_hash)
        if isinstance(value, dict):
            return {key: self._scrubbed(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._scrubbed(item) for item in value]
        return value


def _exception_text(ei: _ExcInfo) -> str:
    return "" if ei[1] is None else exception_text(ei[1])


def _safe_copy(record: logging.LogRecord) -> logging.LogRecord:
    """The record, its message already formatted from parts that may be logged. The copy leaves
    the caller's record as it was for any other handler."""
    safe = logging.makeLogRecord(record.__dict__)
    safe.msg = _safe_message(record)
    safe.args = None
    safe.exc_text = None
    return safe


def _safe_message(record: logging.LogRecord) -> str:
    # Libraries log exceptions as the message (strawberry) or as an argument (the neo4j driver's
    # "will be retried (%s)"): their messages may quote values, so they are described instead.
    message = _loggable(record.msg)
    args: tuple[object, ...] | Mapping[str, object] | None = record.args
    if isinstance(args, tuple):
        args = tuple(_loggable(arg) for arg in args)
    elif isinstance(args, Mapping):
        args = {key: _loggable(arg) for key, arg in args.items()}
    try:
        text = str(message) % args if args else str(message)
    except (TypeError, ValueError, KeyError):
        # Left to logging, a bad format would print the raw arguments to stderr.
        return f"unformattable log message at {record.pathname}:{record.lineno}"
    if record.name == "asyncio":
        # "Task exception was never retrieved" and its kin go on with the repr of the failed
        # future, the exception's message and all; the exception itself is in exc_info.
        return text.partition("\n")[0]
    return text


def _loggable(value: object) -> object:
    return describe_exception(value) if isinstance(value, BaseException) else value


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        current = request_id.get()
        if current is not None and not hasattr(record, "request_id"):
            record.request_id = current
        return True


def configure_logging(
    level: str, stream: TextIO = sys.stderr, log_format: str = "json", *, log_hash: LogHash
) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    _Installed.json_handler = None
    if log_format == "json":
        handler.setFormatter(HashingJsonFormatter(log_hash))
        _Installed.json_handler = handler
    else:
        handler.setFormatter(
            HashingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", log_hash)
        )
    handler.addFilter(_RequestId())
    _Installed.log_hash = log_hash
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The driver's DEBUG output is the Bolt wire, parameters and all.
    logging.getLogger("neo4j").setLevel(max(logging.WARNING, root.level))
    for name in _SILENCED_LOGGERS:
        logging.getLogger(name).disabled = True
    if log_hash.ephemeral_because is not None:
        logging.getLogger(__name__).warning("%s", log_hash.ephemeral_because)
    return handler


def configure_logging_from(settings: Settings, log_format: str | None = None) -> logging.Handler:
    """configure_logging with the settings' level and format, and the install's log hash key
    (made on first use)."""
    return configure_logging(
        settings.log_level,
        log_format=log_format or settings.log_format,
        log_hash=service_log_hash(settings),
    )
