"""The keyed hash logs carry instead of an email or phone number (HMAC-SHA256 with a per-install
secret), and the per-install secrets: LOG_HASH_KEY for the logs, LEDGER_HASH_KEY for the ledger's
bridges (graphdb.ledger), each else a file made on first use. Two keys, so that whoever reads the
logs, and holds their key to search them, cannot test guesses against the ledger's hashes."""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from starlette.datastructures import Secret

from graphdb.ledger import keyed_token
from graphdb.local.private_files import private_dir, write_private
from resolvers.core.identifiers import (
    InvalidIdentifier,
    canonical_email_or_error,
    canonical_phone_or_error,
)
from resolvers.runtime.settings import Settings


class LogHashKeyError(Exception):
    """The key is set but cannot be used: its file is unreadable or empty."""


@dataclass(frozen=True)
class LogHash:
    key: bytes = field(repr=False)
    # Set when the install's key could be neither read nor made: this process hashes with a key
    # of its own, which no other process shares, and its log says so once.
    ephemeral_because: str | None = None
    # PHONE_DEFAULT_REGION: a national number hashes as the E.164 value identify stores.
    phone_region: str | None = None

    def token(self, kind: str, value: str) -> str:
        """`email:3f2a9c01b2d4e5f6`: the kind stays readable, the value does not. The kind is
        hashed too, so that one string hashes differently as an email and as a phone."""
        return keyed_token(self.key, kind, value)

    def email(self, value: str) -> str:
        """The token of the email's canonical form, as identify stores it; an invalid one's
        trimmed, lower-cased text (the same transform, unchecked)."""
        canonical = canonical_email_or_error(value)
        if isinstance(canonical, InvalidIdentifier):
            canonical = value.strip().lower()
        return self.token("email", canonical)

    def phone(self, value: str) -> str:
        """The token of the phone's canonical form; an invalid one's digits and plus signs (the
        canonical form of a valid one is exactly those)."""
        canonical = canonical_phone_or_error(value, self.phone_region)
        if isinstance(canonical, InvalidIdentifier):
            canonical = "".join(char for char in value if char.isdigit() or char == "+")
        return self.token("phone", canonical)


@dataclass(frozen=True)
class InstallKey:
    key: bytes = field(repr=False)
    # Set when the install's key could be neither read nor made (see LogHash).
    ephemeral_because: str | None = None


@dataclass(frozen=True)
class _KeySetting:
    """Where one secret comes from: its variable, else the text of its file."""

    name: str
    secret: Secret | None
    path: Path


def _log_key(settings: Settings) -> _KeySetting:
    return _KeySetting("LOG_HASH_KEY", settings.log_hash_key, settings.log_hash_key_file)


def _ledger_key(settings: Settings) -> _KeySetting:
    return _KeySetting("LEDGER_HASH_KEY", settings.ledger_hash_key, settings.ledger_hash_key_file)


def read_key(settings: Settings) -> bytes | None:
    """LOG_HASH_KEY, else the text of LOG_HASH_KEY_FILE; None when that file does not exist."""
    return _read(_log_key(settings))


def install_key(settings: Settings) -> bytes:
    """read_key, making the key file first when there is none."""
    return _install(_log_key(settings))


def read_ledger_key(settings: Settings) -> bytes | None:
    """LEDGER_HASH_KEY, else the text of LEDGER_HASH_KEY_FILE; None when that file does not
    exist."""
    return _read(_ledger_key(settings))


def _read(setting: _KeySetting) -> bytes | None:
    if setting.secret is not None:
        return str(setting.secret).encode()
    path = setting.path
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise LogHashKeyError(f"cannot read {setting.name}'s file {path}: {error}") from error
    if not text:
        raise LogHashKeyError(f"{setting.name}'s file {path} is empty")
    # The text itself is the key, so the variable set to the file's text hashes alike.
    return text.encode()


def _install(setting: _KeySetting) -> bytes:
    key = _read(setting)
    if key is None:
        _make_key_file(setting.path)
        key = _read(setting)
    if key is None:
        raise LogHashKeyError(f"{setting.path} vanished as it was made")
    return key


def _service_key(setting: _KeySetting) -> InstallKey:
    """The install's key, or, when it can be neither read nor made (a read-only file system),
    a key of this process's own: its hashes then match no other process's, and nothing is lost
    but that."""
    try:
        return InstallKey(_install(setting))
    except (LogHashKeyError, OSError) as error:
        reason = (
            f"No {setting.name} ({error}): this process hashes emails and phone numbers with a "
            f"key of its own, which no other process shares. Set {setting.name}, or "
            f"{setting.name}_FILE to a writable place."
        )
        return InstallKey(secrets.token_bytes(32), ephemeral_because=reason)


def service_log_hash(settings: Settings) -> LogHash:
    """The logs' hashes, under the install's key or this process's own (_service_key)."""
    key = _service_key(_log_key(settings))
    return LogHash(key.key, key.ephemeral_because, phone_region=settings.phone_default_region)


def service_ledger_key(settings: Settings) -> InstallKey:
    """The key of the ledger's hashes (the same fallback as the logs')."""
    return _service_key(_ledger_key(settings))


def _make_key_file(path: Path) -> None:
    """256 random bits, in a file that appears whole and 0600 or not at all. Two workers starting
    at once each write a file of their own, then link it to the name: a link, unlike a rename,
    never replaces, so the first one's key is the one both read back."""
    if not path.parent.exists():
        private_dir(path.parent)
    own = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        write_private(own, secrets.token_hex(32) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(own, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            own.unlink()
