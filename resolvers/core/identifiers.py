"""The one place emails and phone numbers are validated and put into canonical form."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit
MAX_EMAIL_LOCAL_LENGTH = 64
MAX_RAW_PHONE_LENGTH = 64
MIN_PHONE_DIGITS = 3
MAX_PHONE_DIGITS = 20

# ASCII only, on purpose: look-alike Unicode letters would otherwise give one person two
# identities. International domains arrive in their punycode (xn--) form.
_EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]([a-z0-9-]*[a-z0-9])?"
)
_PHONE_SEPARATORS = re.compile(r"[ \-.()\[\]]")
_PHONE = re.compile(r"\+?[0-9]+")


class InvalidIdentifier(ValueError):
    """An email or phone that cannot be canonicalised: a code, a message and the input field at
    fault. The validators return it (the import rejects a row with it); identify raises it, and
    each API answers it in its own shape."""

    def __init__(self, code: str, message: str, field: str | None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Identifiers:
    email: str | None
    phone: str | None


def canonical_identifiers(email: str | None, phone: str | None) -> Identifiers | InvalidIdentifier:
    """Trimmed, lower-cased emails; phones without spaces, dashes, dots and brackets."""
    if email is None and phone is None:
        return InvalidIdentifier(
            "missing_identifier", "Give an email, a phoneNumber, or both.", field=None
        )
    canonical_email = None if email is None else canonical_email_or_error(email)
    if isinstance(canonical_email, InvalidIdentifier):
        return canonical_email
    canonical_phone = None if phone is None else canonical_phone_or_error(phone)
    if isinstance(canonical_phone, InvalidIdentifier):
        return canonical_phone
    return Identifiers(canonical_email, canonical_phone)


def canonical_email_or_error(raw: str) -> str | InvalidIdentifier:
    email = raw.strip().lower()
    if not email:
        return InvalidIdentifier("empty_value", "email is empty.", "email")
    if len(email) > MAX_EMAIL_LENGTH:
        return InvalidIdentifier(
            "too_long", f"email is longer than {MAX_EMAIL_LENGTH} characters.", "email"
        )
    local_part = email.partition("@")[0]
    if not _EMAIL.fullmatch(email) or len(local_part) > MAX_EMAIL_LOCAL_LENGTH:
        return InvalidIdentifier("invalid_email", "email is not a valid email address.", "email")
    return email


def canonical_phone_or_error(raw: str) -> str | InvalidIdentifier:
    if len(raw) > MAX_RAW_PHONE_LENGTH:
        return InvalidIdentifier(
            "too_long",
            f"phoneNumber is longer than {MAX_RAW_PHONE_LENGTH} characters.",
            "phoneNumber",
        )
    phone = _PHONE_SEPARATORS.sub("", raw.strip())
    if not phone:
        return InvalidIdentifier("empty_value", "phoneNumber is empty.", "phoneNumber")
    if not _PHONE.fullmatch(phone):
        return InvalidIdentifier(
            "invalid_phone",
            "phoneNumber may hold only digits, a leading +, spaces, dashes, dots and brackets.",
            "phoneNumber",
        )
    digits = len(phone.lstrip("+"))
    if not MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS:
        return InvalidIdentifier(
            "invalid_phone",
            f"phoneNumber must have {MIN_PHONE_DIGITS} to {MAX_PHONE_DIGITS} digits.",
            "phoneNumber",
        )
    return phone
