"""The one place emails and phone numbers are validated and put into canonical form, and where
the rules (default phone region, blocked values) are applied to a request's values."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from resolvers.core.blocklist import Blocklist

MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit
MAX_EMAIL_LOCAL_LENGTH = 64
MAX_RAW_PHONE_LENGTH = 64
MIN_PHONE_DIGITS = 3
MAX_PHONE_DIGITS = 20

# Each process sees the same few values again and again (a checkout retried, the log line
# hashing what identify just canonicalised); the libraries cost 12 to 22 us a call.
_CACHED_VALUES = 8192

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
class Identifier:
    """One canonical value, the text it came from, and whether the blocklist keeps it from
    linking."""

    value: str
    as_sent: str
    blocked: bool = False


@dataclass(frozen=True)
class Identifiers:
    email: Identifier | None
    phone: Identifier | None

    @property
    def blocked_fields(self) -> tuple[str, ...]:
        found = (("email", self.email), ("phoneNumber", self.phone))
        return tuple(name for name, value in found if value is not None and value.blocked)


@dataclass(frozen=True)
class IdentifierRules:
    """PHONE_DEFAULT_REGION and the blocklist, applied to every value a request brings."""

    phone_region: str | None = None
    blocklist: Blocklist = field(default_factory=Blocklist)

    def identifiers(self, email: str | None, phone: str | None) -> Identifiers | InvalidIdentifier:
        if email is None and phone is None:
            return InvalidIdentifier(
                "missing_identifier", "Give an email, a phoneNumber, or both.", field=None
            )
        canonical_email = None if email is None else canonical_email_or_error(email)
        if isinstance(canonical_email, InvalidIdentifier):
            return canonical_email
        canonical_phone = None if phone is None else self.phone(phone)
        if isinstance(canonical_phone, InvalidIdentifier):
            return canonical_phone
        return Identifiers(
            None
            if email is None or canonical_email is None
            else Identifier(canonical_email, email, self.blocklist.blocks_email(canonical_email)),
            None
            if phone is None or canonical_phone is None
            else Identifier(canonical_phone, phone, self._blocks_phone(canonical_phone, phone)),
        )

    def phone(self, raw: str) -> str | InvalidIdentifier:
        return canonical_phone_or_error(raw, self.phone_region)

    def _blocks_phone(self, canonical: str, as_sent: str) -> bool:
        national = national_digits(canonical) if canonical.startswith("+") else None
        return self.blocklist.blocks_phone(canonical, as_sent, national)


def canonical_identifiers(
    email: str | None, phone: str | None, rules: IdentifierRules | None = None
) -> Identifiers | InvalidIdentifier:
    return (rules or IdentifierRules()).identifiers(email, phone)


@lru_cache(maxsize=_CACHED_VALUES)
def canonical_email_or_error(raw: str) -> str | InvalidIdentifier:
    """Trimmed and lower-cased, checked by email-validator (syntax only: no DNS), an
    internationalised domain in its IDNA (xn--) form. Local parts stay ASCII, on purpose:
    look-alike Unicode letters would otherwise give one person two identities."""
    email = raw.strip().lower()
    if not email:
        return InvalidIdentifier("empty_value", "email is empty.", "email")
    if len(email) > MAX_EMAIL_LENGTH:
        return InvalidIdentifier(
            "too_long", f"email is longer than {MAX_EMAIL_LENGTH} characters.", "email"
        )
    invalid = InvalidIdentifier("invalid_email", "email is not a valid email address.", "email")
    if len(email.partition("@")[0]) > MAX_EMAIL_LOCAL_LENGTH:
        return invalid
    try:
        checked = validate_email(email, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return invalid
    # The library lower-cases the domain only; the local part was lower-cased above.
    canonical = str(checked.ascii_email).lower()
    if len(canonical) > MAX_EMAIL_LENGTH:
        return InvalidIdentifier(
            "too_long", f"email is longer than {MAX_EMAIL_LENGTH} characters.", "email"
        )
    return canonical


@lru_cache(maxsize=_CACHED_VALUES)
def canonical_phone_or_error(raw: str, region: str | None = None) -> str | InvalidIdentifier:
    """E.164 (`+15550100199`) when the number is written with a + or `region` is given, and
    phonenumbers finds it a possible number there; otherwise its digits (and leading +) without
    spaces, dashes, dots and brackets, as before phonenumbers: `123456` stays `123456`."""
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
    return e164(raw, region) or phone


def e164(raw: str, region: str | None) -> str | None:
    """The number in E.164 when phonenumbers reads it as possible (the right length for its
    country); None when it has no + and no region, or is not possible."""
    if region is None and not raw.strip().startswith("+"):
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=_CACHED_VALUES)
def national_digits(e164_value: str) -> str | None:
    """The national significant number of an E.164 value (`+10000000000` -> `0000000000`)."""
    try:
        number = phonenumbers.parse(e164_value, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.national_significant_number(number)
