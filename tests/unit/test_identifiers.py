"""Canonical forms and validation of emails and phone numbers (no I/O)."""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings

from resolvers.core.identifiers import (
    Identifier,
    IdentifierRules,
    Identifiers,
    InvalidIdentifier,
    canonical_identifiers,
)
from resolvers.core.identifiers import _validated as validated_email


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("lorraine@hillvalley.edu", "lorraine@hillvalley.edu"),
        ("  Lorraine@HillValley.EDU\t", "lorraine@hillvalley.edu"),
        ("o'brien+orders@mail.example.co.uk", "o'brien+orders@mail.example.co.uk"),
        ("x@xn--bcher-kva.example", "x@xn--bcher-kva.example"),
    ],
)
def test_emails_are_trimmed_and_lower_cased(raw: str, canonical: str) -> None:
    assert canonical_identifiers(raw, None) == Identifiers(Identifier(canonical, raw), None)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("123456", "123456"),
        (" +1 (555) 010-0123 ", "+15550100123"),
        ("555.010.0123", "5550100123"),
        ("[555] 0100", "5550100"),
    ],
)
def test_phones_lose_separators_and_keep_a_leading_plus(raw: str, canonical: str) -> None:
    assert canonical_identifiers(None, raw) == Identifiers(None, Identifier(canonical, raw))


@pytest.mark.parametrize(
    ("email", "phone", "code", "field"),
    [
        (None, None, "missing_identifier", None),
        ("", None, "empty_value", "email"),
        ("a@b", None, "invalid_email", "email"),
        ("a@@b.co", None, "invalid_email", "email"),
        ("a.@b.co", None, "invalid_email", "email"),
        ("ü@b.co", None, "invalid_email", "email"),
        ("a" * 65 + "@b.co", None, "invalid_email", "email"),
        ("a@" + "b" * 260 + ".co", None, "too_long", "email"),
        (None, " - ", "empty_value", "phoneNumber"),
        (None, "+", "invalid_phone", "phoneNumber"),
        (None, "++123456", "invalid_phone", "phoneNumber"),
        (None, "12", "invalid_phone", "phoneNumber"),
        (None, "1" * 21, "invalid_phone", "phoneNumber"),
        (None, "١٢٣٤٥٦", "invalid_phone", "phoneNumber"),
        ("a@b.co", "abc", "invalid_phone", "phoneNumber"),
    ],
)
def test_bad_values_are_refused_with_a_code_and_field(
    email: str | None, phone: str | None, code: str, field: str | None
) -> None:
    result = canonical_identifiers(email, phone)

    assert isinstance(result, InvalidIdentifier)
    assert (result.code, result.field) == (code, field)


@pytest.mark.parametrize(
    ("raw", "region", "canonical"),
    [
        ("+1 (555) 010-0199", None, "+15550100199"),
        ("+1 (555) 010-0199", "US", "+15550100199"),
        ("555-010-0199", "US", "+15550100199"),
        ("555-010-0199", None, "5550100199"),
        ("+44 (0) 20 7946 0018", None, "+442079460018"),
        ("919812345670", "IN", "+919812345670"),
        # Not a possible number where it is read: the digits, as before.
        ("123456", "US", "123456"),
        ("919191", None, "919191"),
        ("+999 123", None, "+999123"),
    ],
)
def test_phones_become_e164_when_phonenumbers_finds_them_possible(
    raw: str, region: str | None, canonical: str
) -> None:
    result = IdentifierRules(phone_region=region).identifiers(None, raw)

    assert result == Identifiers(None, Identifier(canonical, raw))


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("user@münchen.de", "user@xn--mnchen-3ya.de"),
        ("User@MÜNCHEN.de", "user@xn--mnchen-3ya.de"),
        ("bob~@example.com", "bob~@example.com"),
        ("a@b.co", "a@b.co"),
    ],
)
def test_international_domains_take_their_idna_form(raw: str, canonical: str) -> None:
    result = canonical_identifiers(raw, None)

    assert result == Identifiers(Identifier(canonical, raw), None)


@pytest.mark.parametrize(
    "email", ["a@localhost", "a@b.test", "a@b.invalid", '"quoted"@b.co', "a@[127.0.0.1]"]
)
def test_special_use_domains_and_exotic_forms_are_refused(email: str) -> None:
    result = canonical_identifiers(email, None)

    assert isinstance(result, InvalidIdentifier)
    assert (result.code, result.field) == ("invalid_email", "email")


# Pieces that take an address to every edge of the plain form: specials, dots in every place,
# hyphens at a label's ends, numeric and IDNA labels, reserved names, quotes and brackets.
_EMAIL_PIECES = st.sampled_from(
    [
        "a", "z", "0", "9", "_", "!", "#", "$", "%", "&", "'", "*", "+", "-", "/", "=", "?",
        "^", "`", "{", "|", "}", "~", ".", "..", "@", "@@", '"', "(", ")", "[", "]", " ", ",",
        "xn--", "bcher-kva", "com", "example", "localhost", "local", "test", "invalid", "onion",
        "arpa", "123", "-", "ü", "é", "\u0301", "\uff41", "a" * 63, "b" * 64,
    ]
)  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(
    local=st.lists(_EMAIL_PIECES, min_size=0, max_size=6).map("".join),
    domain=st.lists(_EMAIL_PIECES, min_size=0, max_size=8).map("".join),
)
def test_plain_addresses_are_judged_as_email_validator_judges_them(local: str, domain: str) -> None:
    email = f"{local}@{domain}".lower()
    try:
        checked = validate_email(email, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        expected = None
    else:
        expected = str(checked.ascii_email).lower()
    assert validated_email(email) == expected
