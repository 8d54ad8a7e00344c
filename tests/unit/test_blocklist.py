"""The built-in blocked values, IDENTIFIER_BLOCKLIST_FILE, and what they leave linkable."""

from __future__ import annotations

from pathlib import Path

import pytest

from resolvers.core.blocklist import Blocklist, BlocklistFileError
from resolvers.core.identifiers import IdentifierRules

RULES = IdentifierRules()
US = IdentifierRules(phone_region="US")


def _blocked(rules: IdentifierRules, email: str | None, phone: str | None) -> tuple[str, ...]:
    identifiers = rules.identifiers(email, phone)
    assert not isinstance(identifiers, Exception)
    found = (("email", identifiers.email), ("phoneNumber", identifiers.phone))
    return tuple(name for name, value in found if value is not None and value.blocked)


@pytest.mark.parametrize(
    "email",
    [
        "test@test.com",
        "TEST@test.com",
        "noreply@shop.example",
        "no-reply@shop.example",
        "null@shop.example",
        "none@shop.example",
        "anonymous@shop.example",
        "void@shop.example",
    ],
)
def test_built_in_emails_are_blocked(email: str) -> None:
    assert _blocked(RULES, email, None) == ("email",)


@pytest.mark.parametrize(
    ("rules", "phone"),
    [
        (RULES, "0000000000"),
        (RULES, "000-000-0000"),
        (RULES, "+1 111 111 1111"),
        (RULES, "1234567890"),
        (RULES, "0123456789"),
        (RULES, "9876543210"),
        (RULES, "8901234"),
        # With a region the stored value is +10000000000: its national digits are tested too.
        (US, "0000000000"),
        (US, "(999) 999-9999"),
    ],
)
def test_repeated_digits_and_runs_are_blocked(rules: IdentifierRules, phone: str) -> None:
    assert _blocked(rules, None, phone) == ("phoneNumber",)


@pytest.mark.parametrize(
    ("email", "phone"),
    [
        # The legacy examples answer as before: a six-digit run is a number.
        ("lorraine@hillvalley.edu", "123456"),
        ("george@hillvalley.edu", "919191"),
        ("biffsucks@hillvalley.edu", "717171"),
        ("tester@test.com", "+1 (555) 010-0199"),
        ("no.reply.fan@shop.example", "12345679"),
    ],
)
def test_ordinary_values_stay_linkable(email: str, phone: str) -> None:
    assert _blocked(US, email, phone) == ()


def test_a_blocklist_file_adds_emails_local_parts_domains_phones_and_patterns(
    tmp_path: Path,
) -> None:
    listed = tmp_path / "blocklist"
    listed.write_text(
        "# comments and blank lines are skipped\n\n"
        "Shop@Example.com\nqa@\n@mailinator.com\n+1 (202) 555-0100\n/demo[0-9]+@.*/\n"
    )
    blocklist = Blocklist.from_file(listed)
    rules = IdentifierRules("US", blocklist)

    assert _blocked(rules, "shop@example.com", None) == ("email",)
    assert _blocked(rules, "qa@anywhere.example", None) == ("email",)
    assert _blocked(rules, "anyone@mailinator.com", None) == ("email",)
    assert _blocked(rules, "DEMO42@x.example", None) == ("email",)
    assert _blocked(rules, None, "202-555-0100") == ("phoneNumber",)
    assert _blocked(rules, "demo@x.example", "202-555-0101") == ()


@pytest.mark.parametrize("line", ["/[unclosed/", "no digits, no at"])
def test_a_bad_line_names_the_file_and_line(tmp_path: Path, line: str) -> None:
    listed = tmp_path / "blocklist"
    listed.write_text(f"ok@example.com\n{line}\n")

    with pytest.raises(BlocklistFileError, match=r"blocklist:2: "):
        Blocklist.from_file(listed)
