"""How far an import got: the rows applied, as a prefix of the sorted order, and their outcomes."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from graphdb.records import IdentifyOutcome


class CheckpointError(Exception):
    """The checkpoint belongs to another file, or cannot be read."""


@dataclass
class OutcomeCounts:
    created_primary: int = 0
    added_secondary: int = 0
    merged: int = 0
    nothing_new: int = 0

    def add(self, outcome: IdentifyOutcome) -> None:
        name = outcome.value
        setattr(self, name, getattr(self, name) + 1)

    @property
    def contacts_created(self) -> int:
        return self.created_primary + self.added_secondary

    @property
    def rows(self) -> int:
        return self.contacts_created + self.merged + self.nothing_new


@dataclass
class Checkpoint:
    """Rows [0, done) of the file's sorted order are applied, with these outcomes.

    Only a prefix is recorded: rows after it may have been applied too before an interruption,
    and are applied again on resume, which is harmless (see importer).
    """

    digest: str
    done: int = 0
    counts: OutcomeCounts = field(default_factory=OutcomeCounts)


def checkpoint_path(source: Path) -> Path:
    return source.with_name(source.name + ".checkpoint.json")


def load_checkpoint(path: Path, digest: str) -> Checkpoint:
    """The saved checkpoint of this file, or a fresh one when there is none."""
    if not path.exists():
        return Checkpoint(digest)
    try:
        saved = json.loads(path.read_text())
        checkpoint = Checkpoint(saved["digest"], saved["done"], OutcomeCounts(**saved["counts"]))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CheckpointError(f"cannot read checkpoint {path}: {error}") from error
    if checkpoint.digest != digest:
        raise CheckpointError(
            f"{path} records an import of other contents; "
            "remove it, or pass --restart to import this file from its first row."
        )
    return checkpoint


def save_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    # Written beside and renamed over: a kill mid-write leaves the previous checkpoint whole.
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(dataclasses.asdict(checkpoint)))
    os.replace(partial, path)
