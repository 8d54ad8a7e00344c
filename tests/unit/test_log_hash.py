"""The keyed hash and its per-install key: made once, 0600, the same for processes racing to make
it, and replaced by a process's own key (said in the log) when it cannot be made."""

from __future__ import annotations

import dataclasses
import io
import json
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.datastructures import Secret

from resolvers.runtime.log_hash import (
    LogHash,
    LogHashKeyError,
    install_key,
    read_key,
    read_ledger_key,
    service_ledger_key,
    service_log_hash,
)
from resolvers.runtime.logs import configure_logging
from resolvers.runtime.settings import Settings
from tests.support.logs import logging_restored

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    with logging_restored():
        yield


def _settings(key_file: Path, key: str | None = None) -> Settings:
    return dataclasses.replace(
        Settings.from_environment(env_file=None),
        log_hash_key=None if key is None else Secret(key),
        log_hash_key_file=key_file,
    )


def test_a_token_names_the_kind_and_hides_the_value() -> None:
    token = LogHash(b"key").email("bob~@example.com")

    assert token.startswith("email:")
    assert len(token) == len("email:") + 16
    assert "bob" not in token


def test_the_canonical_form_is_hashed() -> None:
    log_hash = LogHash(b"key")

    assert log_hash.email("  Bob~@Example.COM ") == log_hash.email("bob~@example.com")
    assert log_hash.phone("555-010-0199") == log_hash.phone("(555) 010 0199")
    assert log_hash.phone("555-010-0199") == log_hash.phone("5550100199")
    assert log_hash.phone("+1 (555) 010-0199") == log_hash.phone("+15550100199")


def test_another_key_or_kind_gives_another_hash() -> None:
    assert LogHash(b"one").phone("73519") != LogHash(b"two").phone("73519")
    assert LogHash(b"one").token("email", "73519")[6:] != LogHash(b"one").phone("73519")[6:]


def test_log_hash_key_wins_over_the_file(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("from the file\n")

    assert read_key(_settings(key_file, key="from the environment")) == b"from the environment"
    assert read_key(_settings(key_file)) == b"from the file"
    assert read_key(_settings(tmp_path / "missing")) is None


def test_an_empty_key_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("\n")

    with pytest.raises(LogHashKeyError, match="empty"):
        read_key(_settings(tmp_path / "key"))


def test_the_key_file_is_made_once_0600_in_a_0700_folder(tmp_path: Path) -> None:
    key_file = tmp_path / "made" / "log-hash-key"

    first = install_key(_settings(key_file))
    second = install_key(_settings(key_file))

    assert first == second
    assert len(bytes.fromhex(first.decode())) == 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert [path.name for path in key_file.parent.iterdir()] == ["log-hash-key"]


def test_processes_starting_at_once_agree_on_one_key(tmp_path: Path) -> None:
    key_file = tmp_path / "raced" / "log-hash-key"
    program = (
        "import dataclasses, sys\n"
        "from pathlib import Path\n"
        "from resolvers.runtime.log_hash import install_key\n"
        "from resolvers.runtime.settings import Settings\n"
        "settings = dataclasses.replace(Settings.from_environment(env_file=None),\n"
        "    log_hash_key=None, log_hash_key_file=Path(sys.argv[1]))\n"
        "print(install_key(settings).decode())\n"
    )
    racers = [
        subprocess.Popen(  # noqa: S603 - this interpreter, our own program
            [sys.executable, "-c", program, str(key_file)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    keys = {racer.communicate(timeout=60)[0].strip() for racer in racers}

    assert [racer.returncode for racer in racers] == [0] * 8
    assert keys == {key_file.read_text().strip()}
    assert [path.name for path in key_file.parent.iterdir()] == ["log-hash-key"]


@pytest.mark.usefixtures("restore_logging")
def test_a_key_that_cannot_be_made_is_replaced_by_a_process_own_and_said(
    tmp_path: Path,
) -> None:
    # A file where the folder should be: mkdir fails whoever runs the test, root included.
    (tmp_path / "not-a-folder").write_text("")
    log_hash = service_log_hash(_settings(tmp_path / "not-a-folder" / "log-hash-key"))
    output = io.StringIO()

    configure_logging("info", stream=output, log_hash=log_hash)

    assert len(log_hash.key) == 32
    assert log_hash.ephemeral_because is not None
    [line] = [json.loads(text) for text in output.getvalue().splitlines()]
    assert line["level"] == "WARNING"
    assert "LOG_HASH_KEY" in line["message"]


def test_the_ledger_hashes_under_a_key_of_its_own(tmp_path: Path) -> None:
    # Whoever holds the logs' key, to search them, cannot test guesses against the ledger.
    settings = dataclasses.replace(
        _settings(tmp_path / "state" / "log-hash-key"),
        ledger_hash_key=None,
        ledger_hash_key_file=tmp_path / "state" / "ledger-hash-key",
    )

    ledger = service_ledger_key(settings)

    assert ledger.ephemeral_because is None
    assert ledger.key != install_key(settings)
    assert read_ledger_key(settings) == ledger.key
    assert stat.S_IMODE(settings.ledger_hash_key_file.stat().st_mode) == 0o600
    chosen = dataclasses.replace(settings, ledger_hash_key=Secret("from the environment"))
    assert service_ledger_key(chosen).key == b"from the environment"
