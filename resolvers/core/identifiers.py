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

# An address email-validator would take as a plain dot-atom before a plain ASCII domain (its
# ATEXT, lower-cased): its local part needs no check of the library's, and its domain is checked
# once per process (domains repeat far more than addresses do). Every other address goes to the
# library whole. tests/unit/test_identifiers.py checks both ways agree.
_ATEXT = r"[a-z0-9_!#$%&'*+\-/=?^`{|}~]"
_PLAIN_EMAIL = re.compile(rf"({_ATEXT}+(?:\.{_ATEXT}+)*)@([a-z0-9.\-]+)")
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
        phone_forms = None if phone is None else _phone_forms(phone, self.phone_region)
        if isinstance(phone_forms, InvalidIdentifier):
            return phone_forms
        return Identifiers(
            None
            if email is None or canonical_email is None
            else Identifier(canonical_email, email, self.blocklist.blocks_email(canonical_email)),
            None
            if phone is None or phone_forms is None
            else Identifier(
                phone_forms[0], phone, self.blocklist.blocks_phone(*phone_forms, as_sent=phone)
            ),
        )

    def phone(self, raw: str) -> str | InvalidIdentifier:
        return canonical_phone_or_error(raw, self.phone_region)

    def erasable_phone_forms(self, raw: str) -> tuple[str, ...] | InvalidIdentifier:
        """Every form identify may have stored this number in, canonical first: E.164 under the
        current PHONE_DEFAULT_REGION, its digits as they were kept before phonenumbers (or with
        no region), and its national significant number (a number stored without a region
        before one was set). Erasure looks for each, so a change of rules hides nothing."""
        forms = _phone_forms(raw, self.phone_region)
        if isinstance(forms, InvalidIdentifier):
            return forms
        canonical, national = forms
        digits = _PHONE_SEPARATORS.sub("", raw.strip())
        return tuple(dict.fromkeys(f for f in (canonical, digits, national) if f is not None))


def erasable_email_forms(raw: str) -> tuple[str, ...] | InvalidIdentifier:
    """The canonical form, and the trimmed, lower-cased text (an internationalised domain as
    written, as stored before its IDNA form was): every form identify may have stored."""
    canonical = canonical_email_or_error(raw)
    if isinstance(canonical, InvalidIdentifier):
        return canonical
    return tuple(dict.fromkeys((canonical, raw.strip().lower())))


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
    canonical = _validated(email)
    if canonical is None:
        return invalid
    if len(canonical) > MAX_EMAIL_LENGTH:
        return InvalidIdentifier(
            "too_long", f"email is longer than {MAX_EMAIL_LENGTH} characters.", "email"
        )
    return canonical


def _validated(email: str) -> str | None:
    """email-validator's ASCII form of a lower-cased address (syntax only: no DNS), lower-cased
    (the library lower-cases the domain only), or None when it is no valid address."""
    plain = _PLAIN_EMAIL.fullmatch(email)
    if plain is not None:
        domain = _ascii_domain(plain[2])
        return None if domain is None else f"{plain[1]}@{domain}"
    try:
        checked = validate_email(email, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return None
    return str(checked.ascii_email).lower()


@lru_cache(maxsize=_CACHED_VALUES)
def _ascii_domain(domain: str) -> str | None:
    """The library's verdict on a domain, with a local part it always takes."""
    try:
        checked = validate_email(f"x@{domain}", check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return None
    return str(checked.ascii_domain).lower()


def canonical_phone_or_error(raw: str, region: str | None = None) -> str | InvalidIdentifier:
    """E.164 (`+15550100199`) when the number is written with a + or `region` is given, and
    phonenumbers finds it a possible number there; otherwise its digits (and leading +) without
    spaces, dashes, dots and brackets, as before phonenumbers: `123456` stays `123456`."""
    forms = _phone_forms(raw, region)
    return forms if isinstance(forms, InvalidIdentifier) else forms[0]


@lru_cache(maxsize=_CACHED_VALUES)
def _phone_forms(raw: str, region: str | None) -> tuple[str, str | None] | InvalidIdentifier:
    """The canonical form, and the national significant number of one written with + or made
    E.164 (`+10000000000` is `0000000000` in the United States: the blocklist tests both).
    phonenumbers parses the number once for both."""
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
    if region is not None or raw.strip().startswith("+"):
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            pass
        else:
            if phonenumbers.is_possible_number(number):
                e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                return e164, phonenumbers.national_significant_number(number)
    # Kept as digits; one with a leading + still has a national part for the blocklist.
    return phone, _national(phone) if phone.startswith("+") else None


def _national(international: str) -> str | None:
    try:
        return phonenumbers.national_significant_number(phonenumbers.parse(international, None))
    except phonenumbers.NumberParseException:
        return None
