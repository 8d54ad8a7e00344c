"""docker-compose.yml's secret: `make compose-secrets` makes it, and the service's entry point
hands it to the command. (No Docker engine here: the pieces are run as compose would run them.)"""

from __future__ import annotations

import re
import stat
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SECRET = "/run/secrets/neo4j_auth"
PRINT_PASSWORD = ["sh", "-c", 'printf %s "$NEO4J_PASSWORD"']


def _make_secret(folder: Path) -> Path:
    subprocess.run(  # noqa: S603
        ["make", "-s", "-C", str(folder), "-f", str(ROOT / "Makefile"),  # noqa: S607
         f"PYTHON={sys.executable}", "compose-secrets"],
        check=True, capture_output=True,
    )  # fmt: skip
    return folder / ".secrets" / "neo4j_auth"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _entry_point(secret_file: Path) -> list[str]:
    """The service's entry point as compose hands it to Docker: `$$` is a literal `$`; the
    secret's path inside the container becomes a file of the test's."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    entrypoint: list[str] = compose["services"]["identity"]["entrypoint"]
    return [part.replace("$$", "$").replace(SECRET, str(secret_file)) for part in entrypoint]


def test_make_writes_a_random_password_in_a_folder_only_its_owner_may_enter(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()

    secret = _make_secret(first)
    text = secret.read_text()
    again = _make_secret(first).read_text()

    assert re.fullmatch(r"neo4j/[0-9a-f]{32}\n", text)
    assert again == text, "made once, then kept"
    assert _make_secret(second).read_text() != text
    assert _mode(secret.parent) == 0o700
    # Compose mounts the file as it is, and the containers' users are not its owner.
    assert _mode(secret) == 0o444
    assert not list(secret.parent.glob("*.partial"))


def test_the_entry_point_hands_the_command_the_password_from_the_secret(tmp_path: Path) -> None:
    secret = _make_secret(tmp_path)
    password = secret.read_text().strip().removeprefix("neo4j/")
    command = [*_entry_point(secret), *PRINT_PASSWORD]

    completed = subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603

    assert completed.stdout == password
    assert not any(password in part for part in command)


def test_without_the_secret_the_command_never_runs(tmp_path: Path) -> None:
    command = [*_entry_point(tmp_path / "missing"), "sh", "-c", "echo ran"]

    completed = subprocess.run(command, check=False, capture_output=True, text=True)  # noqa: S603

    assert completed.returncode != 0
    assert "ran" not in completed.stdout
