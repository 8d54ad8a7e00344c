"""`identity log-hash`: the hash a log line carries for a value, from the install's key, which it
never makes."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from resolvers.cli.log_hash import log_hash_command
from resolvers.runtime.log_hash import LogHash


def test_log_hash_command_prints_the_hash_the_logs_carry(tmp_path: Path) -> None:
    env = {"LOG_HASH_KEY": "", "LOG_HASH_KEY_FILE": str(tmp_path / "key")}
    (tmp_path / "key").write_text("install key\n")
    log_hash = LogHash(b"install key")

    given = CliRunner().invoke(log_hash_command, ["Bob~@Example.com", "555-010-0199"], env=env)
    piped = CliRunner().invoke(log_hash_command, [], input="a@b.c\n\n73519\n", env=env)
    forced = CliRunner().invoke(log_hash_command, ["--kind", "email", "73519"], env=env)

    assert given.output.splitlines() == [
        log_hash.email("bob~@example.com"),
        log_hash.phone("5550100199"),
    ]
    assert piped.output.splitlines() == [log_hash.email("a@b.c"), log_hash.phone("73519")]
    assert forced.output.splitlines() == [log_hash.token("email", "73519")]


def test_log_hash_command_never_makes_a_key(tmp_path: Path) -> None:
    env = {"LOG_HASH_KEY": "", "LOG_HASH_KEY_FILE": str(tmp_path / "missing")}

    result = CliRunner().invoke(log_hash_command, ["a@b.c"], env=env)

    assert result.exit_code == 1
    assert "No log hash key" in result.output
    assert not (tmp_path / "missing").exists()


def test_log_hash_command_prints_the_ledger_s_hash_with_ledger(tmp_path: Path) -> None:
    env = {
        "LOG_HASH_KEY": "",
        "LOG_HASH_KEY_FILE": str(tmp_path / "log-key"),
        "LEDGER_HASH_KEY": "",
        "LEDGER_HASH_KEY_FILE": str(tmp_path / "ledger-key"),
    }
    (tmp_path / "log-key").write_text("log key\n")

    missing = CliRunner().invoke(log_hash_command, ["--ledger", "a@b.c"], env=env)
    (tmp_path / "ledger-key").write_text("ledger key\n")
    ledger = CliRunner().invoke(log_hash_command, ["--ledger", "a@b.c"], env=env)

    assert missing.exit_code == 1
    assert "No ledger hash key" in missing.output
    assert ledger.output.splitlines() == [LogHash(b"ledger key").email("a@b.c")]
    assert LogHash(b"log key").email("a@b.c") not in ledger.output
