"""Canonical forms and validation of emails and phone numbers (no I/O)."""

from __future__ import annotations

import pytest

from resolvers.core.identifiers import Identifiers, InvalidIdentifier, canonical_identifiers


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
    assert canonical_identifiers(raw, None) == Identifiers(canonical, None)


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
    assert canonical_identifiers(None, raw) == Identifiers(None, canonical)


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
