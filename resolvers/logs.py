"""Log set-up: one handler whose formatter masks every email and phone number it would print."""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

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


def configure_logging(level: str, stream: TextIO = sys.stderr) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The driver's DEBUG output is the Bolt wire, parameters and all.
    logging.getLogger("neo4j").setLevel(max(logging.WARNING, root.level))
    return handler
