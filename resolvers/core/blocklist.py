"""Values that never link two contacts: placeholders, test values and junk that many unrelated
customers share, which would otherwise fuse strangers into one giant cluster."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

# Runs shorter than this stay linkable: the legacy examples use `123456` as a real number.
MIN_RUN_DIGITS = 7

# Segment's recommended blocked values (zeroes and dashes, `anonymous`, `null`, hard-coded QA
# values such as `void` and `abc123`), and mailboxes nobody reads, as local parts.
_BLOCKED_LOCAL_PARTS = frozenset(
    {
        "noreply",
        "no-reply",
        "donotreply",
        "do-not-reply",
        "null",
        "none",
        "nil",
        "undefined",
        "anonymous",
        "unknown",
        "void",
        "abc123",
        "na",
        "n-a",
    }
)
_BLOCKED_EMAILS = frozenset(
    {"test@test.com", "test@example.com", "example@example.com", "email@example.com"}
)
# Every run up (or down) of at most ten digits is a substring of these.
_UP = "01234567890123456789"
_DOWN = _UP[::-1]


class BlocklistFileError(ValueError):
    """A line of IDENTIFIER_BLOCKLIST_FILE that cannot be used: the service refuses to start."""


@dataclass(frozen=True)
class Blocklist:
    """The built-in values, plus those of IDENTIFIER_BLOCKLIST_FILE.

    Values are compared in canonical form: emails lower-cased (international domains in their
    xn-- form), phones by their digits.
    """

    emails: frozenset[str] = frozenset()
    local_parts: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    phone_digits: frozenset[str] = frozenset()
    patterns: tuple[re.Pattern[str], ...] = field(default=())

    def blocks_email(self, email: str) -> bool:
        local_part, _, domain = email.rpartition("@")
        return (
            email in _BLOCKED_EMAILS
            or local_part in _BLOCKED_LOCAL_PARTS
            or email in self.emails
            or local_part in self.local_parts
            or domain in self.domains
            or self._matches(email)
        )

    def blocks_phone(self, canonical: str, national: str | None, *, as_sent: str) -> bool:
        """`national` is the national number of an E.164 value: `+10000000000` is `0000000000`
        in the United States, and blocked."""
        candidates = {_digits(canonical), _digits(as_sent)}
        if national is not None:
            candidates.add(national)
        return any(
            _one_digit_repeated(digits) or _run(digits) or digits in self.phone_digits
            for digits in candidates
        ) or self._matches(canonical)

    def _matches(self, value: str) -> bool:
        return any(pattern.fullmatch(value) for pattern in self.patterns)

    @classmethod
    def from_file(cls, path: Path | None) -> Blocklist:
        """One value a line: `name@` blocks a local part, `@domain` a domain, any other line with
        an @ one email; `/regex/` is a regular expression the whole canonical value (email or
        phone) must match, ignoring case; any other line is a phone, compared by its digits.
        Blank lines and lines starting with # are skipped."""
        if path is None:
            return cls()
        emails: set[str] = set()
        local_parts: set[str] = set()
        domains: set[str] = set()
        phones: set[str] = set()
        patterns: list[re.Pattern[str]] = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            entry = line.strip()
            if not entry or entry.startswith("#"):
                continue
            if len(entry) > 2 and entry.startswith("/") and entry.endswith("/"):
                try:
                    patterns.append(re.compile(entry[1:-1], re.IGNORECASE))
                except re.error as error:
                    message = f"{path}:{number}: not a regular expression: {error}"
                    raise BlocklistFileError(message) from None
            elif entry.endswith("@"):
                local_parts.add(entry[:-1].lower())
            elif entry.startswith("@"):
                domains.add(entry[1:].lower())
            elif "@" in entry:
                emails.add(entry.lower())
            elif digits := _digits(entry):
                phones.add(digits)
            else:
                raise BlocklistFileError(f"{path}:{number}: neither an email, a phone nor /regex/")
        return cls(
            frozenset(emails),
            frozenset(local_parts),
            frozenset(domains),
            frozenset(phones),
            tuple(patterns),
        )


_NOT_DIGITS = re.compile(r"[^0-9]+")


def _digits(text: str) -> str:
    """The ASCII digits of `text`, in order."""
    return _NOT_DIGITS.sub("", text)


def _one_digit_repeated(digits: str) -> bool:
    return bool(digits) and digits == digits[0] * len(digits)


def _run(digits: str) -> bool:
    """`1234567890`, `0123456789`, `9876543210`: consecutive digits up or down, 0 after 9."""
    return MIN_RUN_DIGITS <= len(digits) <= 10 and (digits in _UP or digits in _DOWN)
