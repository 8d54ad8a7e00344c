"""The forms erasure looks for: every one identify may have stored a value in, under today's rules
or earlier ones, canonical first."""

from __future__ import annotations

from resolvers.core.identifiers import IdentifierRules, InvalidIdentifier, erasable_email_forms


def test_a_number_is_looked_for_in_e164_and_as_the_digits_kept_before_a_region() -> None:
    us = IdentifierRules(phone_region="US")

    assert us.erasable_phone_forms("555-010-0199") == ("+15550100199", "5550100199")
    assert IdentifierRules().erasable_phone_forms("555-010-0199") == ("5550100199",)
    assert IdentifierRules().erasable_phone_forms("+1 555 010 0199") == (
        "+15550100199",
        "5550100199",
    )
    assert isinstance(us.erasable_phone_forms("call me"), InvalidIdentifier)


def test_an_email_is_looked_for_canonical_and_as_written() -> None:
    assert erasable_email_forms(" Doc@Bücher.example ") == (
        "doc@xn--bcher-kva.example",
        "doc@bücher.example",
    )
    assert erasable_email_forms("doc@hillvalley.edu") == ("doc@hillvalley.edu",)
    assert isinstance(erasable_email_forms("no at sign"), InvalidIdentifier)
