"""Crypto-shredding: personal data on Kafka becomes unreadable at the sender's deadline.

Kafka keeps records until a topic's own retention, weeks after some senders' deadlines
(`wbxretainuntil`). So WBX encrypts what is personal with AES-256-GCM under a key of the
deadline's UTC day, and destroys each day's key once that day has passed: the bytes Kafka
still holds then reveal nothing.

* `wbx.verified.v1`: each record is sealed whole (`seal_record`): a JSON object
  `{"wbxenc": "A256GCM", "day": "2026-12-20", "data": "<base64url of nonce and ciphertext>"}`.
  Opened, it gives the envelope byte for byte as signed, so its signature still verifies.
* `wbx.shared.v1` and the alerts: the released values of direct identifiers and free text
  (names, document numbers, biometric references, plates, phones, case references, notes;
  pseudonymised or not) are sealed in place (`seal_value`): the JSON value becomes the
  string `wbxenc:<day>:<base64url>`. Quasi-identifiers and special categories (nationality,
  sex, age band, vulnerability, coarse place) stay readable: the anonymous statistics are
  counted from them, and a rebuild after a key is gone counts exactly as before.

Every reader applies the deadline itself: a day's key is never used once the day has passed
(`key(day, today)` is None), whether or not the store has destroyed it yet. Keys live in a
`RetentionKeyStore`: `FileKeyStore` by default (one file per day, mode 0600), or any class
named by `WBX_RETENTION_KEY_STORE` (a vault in production).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import re
import secrets
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict, Field

from schemas.canonical import b64url_decode, b64url_encode
from schemas.derived import utc_day
from schemas.errors import ConfigurationError, WbxError

logger = logging.getLogger(__name__)

ALGORITHM = "A256GCM"
VALUE_PREFIX = "wbxenc:"
_NONCE_BYTES = 12
_KEY_BYTES = 32
_DAY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.key$")


class SealedRecord(BaseModel):
    """A record of `wbx.verified.v1`: the envelope as signed, sealed under its deadline's key."""

    model_config = ConfigDict(extra="forbid")

    wbxenc: Literal["A256GCM"]
    day: date = Field(description="the UTC day of the deadline: whose key seals it")
    data: str = Field(
        description="base64url of the 12-byte nonce and the AES-GCM ciphertext; the "
        "associated data is `wbx.verified.v1|<day>`"
    )


class ShreddedError(WbxError):
    """The key of the record's retention day is gone: its deadline passed."""


class SealError(WbxError):
    """Sealed bytes that do not open: altered, truncated or not sealed by WBX."""


class RetentionKeyStore(Protocol):
    """Where the keys of the retention days live (a file store, a vault, ...)."""

    def key(self, day: date) -> bytes | None:
        """The key of `day`, None when it was never made or is destroyed."""

    def create(self, day: date) -> bytes:
        """The key of `day`, made now if there is none yet."""

    def destroy_before(self, day: date) -> list[date]:
        """Destroy the key of every day before `day`; the days destroyed."""

    def days(self) -> list[date]:
        """The days whose keys exist, oldest first."""


class FileKeyStore:
    """One file of 32 random bytes per day, `<directory>/<YYYY-MM-DD>.key`, mode 0600.

    Keys read are cached (bound: one per day with a key, at most the longest retention,
    about 400), and a cached key's file is looked at again after `RECHECK_SECONDS`, so a
    key another process destroyed is gone here too within a second. Destroying overwrites
    the file with zeros before unlinking it (on a journalling or copy-on-write file system
    the old blocks may survive: put the directory on an encrypted volume, or use a vault).
    """

    RECHECK_SECONDS = 1.0
    """How long a cached key is used before its file is looked at again."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: dict[date, tuple[bytes, str, float]] = {}

    def _path(self, day: date) -> Path:
        return self.directory / f"{day.isoformat()}.key"

    def key(self, day: date) -> bytes | None:
        """The key of `day`, None when it was never made or is destroyed."""
        cached = self._cache.get(day)
        if cached is not None:
            key, path, checked = cached
            now = time.monotonic()
            if now - checked < self.RECHECK_SECONDS:
                return key
            # Another process may have destroyed it (an early shred): a stat, not a read.
            if os.path.exists(path):
                self._cache[day] = (key, path, now)
                return key
            del self._cache[day]
            return None
        path = str(self._path(day))
        try:
            with open(path, "rb") as handle:
                key = handle.read()
        except FileNotFoundError:
            return None
        if len(key) != _KEY_BYTES:
            raise ConfigurationError(f"{path} is not a {_KEY_BYTES}-byte key")
        self._cache[day] = (key, path, time.monotonic())
        return key

    def create(self, day: date) -> bytes:
        """The key of `day`, made now (atomically: two writers agree) if there is none."""
        existing = self.key(day)
        if existing is not None:
            return existing
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._path(day)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker made it a moment ago
            key = self.key(day)
            assert key is not None
            return key
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(_KEY_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
        key = self.key(day)
        assert key is not None
        return key

    def destroy_before(self, day: date) -> list[date]:
        """Destroy the key of every day before `day`; the days destroyed."""
        gone = [d for d in self.days() if d < day]
        for old in gone:
            path = self._path(old)
            with contextlib.suppress(FileNotFoundError):
                with path.open("r+b") as handle:
                    handle.write(b"\0" * _KEY_BYTES)
                    handle.flush()
                    os.fsync(handle.fileno())
                path.unlink()
            self._cache.pop(old, None)
        for old in [d for d in self._cache if d < day]:
            del self._cache[old]
        return gone

    def days(self) -> list[date]:
        """The days whose keys exist, oldest first."""
        if not self.directory.is_dir():
            return []
        found = (_DAY_FILE.match(p.name) for p in self.directory.iterdir())
        return sorted(date.fromisoformat(m.group(1)) for m in found if m)


def load_key_store(name: str, directory: Path) -> RetentionKeyStore:
    """The store `WBX_RETENTION_KEY_STORE` names (`module:Class`, built with the directory
    setting), or the file store in `directory` when it names none."""
    if not name:
        return FileKeyStore(directory)
    module_name, _, class_name = name.partition(":")
    try:
        store_class = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigurationError(
            f"WBX_RETENTION_KEY_STORE={name!r} names no class (module:Class): {exc}"
        ) from None
    store: RetentionKeyStore = store_class(directory)
    return store


class Shredder:
    """Seals and opens with the key of a retention day, under the deadline rule.

    `today` is always the caller's (the stages have no clock of their own): a day's key
    opens nothing once `today` is past it, and is never made for a day already past.
    """

    def __init__(self, store: RetentionKeyStore) -> None:
        self.store = store
        self._ciphers: dict[bytes, AESGCM] = {}  # bound: one per day key in use

    def _cipher(self, key: bytes) -> AESGCM:
        cipher = self._ciphers.get(key)
        if cipher is None:
            if len(self._ciphers) >= 1024:  # far more days than any retention: start over
                self._ciphers.clear()
            cipher = self._ciphers[key] = AESGCM(key)
        return cipher

    def _key(self, day: date, today: date) -> bytes | None:
        return None if day < today else self.store.key(day)

    def seal_record(self, raw: bytes, deadline: datetime, today: date, topic: str) -> bytes:
        """A whole record sealed under its deadline's day (bound to `topic`)."""
        day = utc_day(deadline)
        sealed = self._seal(raw, day, today, f"{topic}|{day.isoformat()}")
        return json.dumps(
            {"wbxenc": ALGORITHM, "day": day.isoformat(), "data": sealed}, separators=(",", ":")
        ).encode("ascii")

    def open_record(self, value: bytes, today: date, topic: str) -> bytes:
        """The record `seal_record` sealed; ShreddedError past its day, SealError when the
        bytes are not a sealed record of `topic`."""
        try:
            wrapper = json.loads(value)
            day = date.fromisoformat(wrapper["day"])
            data = wrapper["data"]
            if wrapper.get("wbxenc") != ALGORITHM or not isinstance(data, str):
                raise ValueError("not sealed with " + ALGORITHM)
        except (ValueError, KeyError, TypeError) as exc:
            raise SealError(f"not a sealed record: {exc}") from None
        return self._open(data, day, today, f"{topic}|{day.isoformat()}")

    def seal_value(self, value: Any, deadline: datetime, today: date) -> str:
        """One JSON value sealed in place: `wbxenc:<day>:<base64url>`."""
        day = utc_day(deadline)
        plain = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return f"{VALUE_PREFIX}{day.isoformat()}:{self._seal(plain, day, today, 'value')}"

    def open_value(self, text: str, today: date) -> Any:
        """The value `seal_value` sealed; ShreddedError past its day, SealError otherwise."""
        try:
            day_text, data = text.removeprefix(VALUE_PREFIX).split(":", 1)
            day = date.fromisoformat(day_text)
        except ValueError as exc:
            raise SealError(f"not a sealed value: {exc}") from None
        return json.loads(self._open(data, day, today, "value"))

    def open_tree(self, value: Any, today: date) -> Any:
        """`value` (a JSON value) with every sealed value in it opened; one whose key is
        gone is left out (its deadline passed), as is one that does not open."""
        if is_sealed_value(value):
            return self.open_value(value, today)
        if isinstance(value, dict):
            opened: dict[str, Any] = {}
            for name, item in value.items():
                with contextlib.suppress(ShreddedError, SealError):
                    opened[name] = self.open_tree(item, today)
            return opened
        if isinstance(value, list):
            items: list[Any] = []
            for item in value:
                with contextlib.suppress(ShreddedError, SealError):
                    items.append(self.open_tree(item, today))
            return items
        return value

    def _seal(self, plain: bytes, day: date, today: date, context: str) -> str:
        if day < today:
            raise ShreddedError(f"the deadline day {day} has passed: nothing is sealed for it")
        nonce = secrets.token_bytes(_NONCE_BYTES)
        cipher = self._cipher(self.store.create(day))
        return b64url_encode(nonce + cipher.encrypt(nonce, plain, context.encode("utf-8")))

    def _open(self, data: str, day: date, today: date, context: str) -> bytes:
        key = self._key(day, today)
        if key is None:
            raise ShreddedError(f"the key of {day} is destroyed: its deadline passed")
        try:
            raw = b64url_decode(data)
            return self._cipher(key).decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode("utf-8")
            )
        except (ValueError, InvalidTag):
            raise SealError(f"sealed bytes of {day} that do not open: altered") from None


def is_sealed_value(value: Any) -> bool:
    """Whether `value` is a value `seal_value` made."""
    return isinstance(value, str) and value.startswith(VALUE_PREFIX)
