"""Files only their owner may read: created 0600 (folders 0700) from the first byte, never made
private after the secret is already in them."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import TextIO


def private_dir(path: Path) -> Path:
    """Make the folder (and missing parents) 0700, or tighten an existing one to 0700."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def write_private(path: Path, text: str) -> None:
    """Write the whole file at once: a reader sees the old content or the new, never a part, and
    at no moment anyone but the owner can read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file 0600 with O_EXCL; the rename is atomic on one file system.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def open_private(path: Path, *, append: bool = False, newline: str | None = None) -> TextIO:
    """open(path, "w" or "a") for a text file only its owner may read; an existing file is
    tightened to 0600 before anything is written to it."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    try:
        # O_CREAT's mode applies only to a file it creates: an older one may be wider.
        os.fchmod(fd, 0o600)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "a" if append else "w", encoding="utf-8", newline=newline)
