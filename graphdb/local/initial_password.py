"""The local Neo4j's initial password, passed to `neo4j-admin` in a private file, not argv."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Mapping
from pathlib import Path

from graphdb.local.private_files import write_private

ADMIN_TOOL = "org.neo4j.cli.AdminTool"
# Inside the home (0700), and deleted as soon as the admin tool has read it.
ARGUMENT_FILE = "initial-password.args"


class InitialPasswordError(RuntimeError):
    """The admin tool refused the password, or the password cannot be passed to it."""


def argument_file_text(password: str) -> str:
    """The admin tool's arguments after `set-initial-password`, in picocli's @-file syntax.

    `--` keeps a password that starts with `-` from being read as an option; inside double
    quotes picocli takes `\\` and `"` escaped by a backslash, and every other character as is.
    """
    if "\n" in password or "\r" in password:
        # picocli cannot quote a line break, and the password file keeps one password a line.
        raise InitialPasswordError("The Neo4j password must not contain a line break.")
    quoted = password.replace("\\", "\\\\").replace('"', '\\"')
    return f'-- "{quoted}"\n'


def set_initial_password(home: Path, password: str, lib_dir: Path, env: Mapping[str, str]) -> None:
    """Run `neo4j-admin dbms set-initial-password` on a home that holds no database yet.

    On a command line the password would be shown by `ps` to every user of the machine, so
    it goes in a 0600 file the admin tool expands (picocli's `@file`, which AdminTool leaves
    on), removed whatever the outcome.
    """
    arguments = home / ARGUMENT_FILE
    write_private(arguments, argument_file_text(password))
    command = [
        "java", "-cp", f"{lib_dir}/*", ADMIN_TOOL,
        "dbms", "set-initial-password", f"@{arguments}",
    ]  # fmt: skip
    try:
        completed = subprocess.run(  # noqa: S603
            command, env=dict(env), capture_output=True, text=True, check=False
        )
    finally:
        with contextlib.suppress(FileNotFoundError):
            arguments.unlink()
    if completed.returncode != 0:
        # picocli quotes arguments it rejects: keep the password out of the error, and so of logs.
        stderr = completed.stderr.replace(password, "<password>").strip()[-2000:]
        raise InitialPasswordError(f"set-initial-password failed: {stderr}")
