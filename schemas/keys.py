"""The agency key registry: public Ed25519 keys with validity windows and revocation."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from schemas.canonical import b64url_decode, b64url_encode
from schemas.envelope import AGENCY_PATTERN
from schemas.errors import KeyRegistryError, PrivateKeyError


def _check_raw_public_key(value: str) -> str:
    try:
        raw = b64url_decode(value)
    except ValueError:
        raise ValueError("public_key is not base64url") from None
    if len(raw) != 32:
        raise ValueError(f"public_key decodes to {len(raw)} bytes, an Ed25519 key has 32")
    return value


class KeyEntry(BaseModel):
    """One public key of one agency."""

    model_config = ConfigDict(extra="forbid")

    kid: str = Field(min_length=1, max_length=128)
    agency: str = Field(pattern=AGENCY_PATTERN)
    alg: Literal["Ed25519"] = "Ed25519"
    public_key: Annotated[str, AfterValidator(_check_raw_public_key)] = Field(
        description="raw 32-byte Ed25519 public key, unpadded base64url"
    )
    valid_from: AwareDatetime
    valid_until: AwareDatetime | None = None
    revoked: bool = False
    revoked_at: AwareDatetime | None = None

    def revoked_by(self, received_at: datetime) -> bool:
        """Whether the key was revoked when a record was received.

        A revocation covers what is received from its time on; a revocation without a time
        (an old registry) covers everything.
        """
        if self.revoked_at is not None:
            return received_at >= self.revoked_at
        return self.revoked

    def usable_at(self, received_at: datetime, grace: timedelta, skew: timedelta) -> bool:
        """Whether the key's validity window covers a record received at `received_at`.

        The window is judged at the trusted receipt time, never the event's own `time`: from
        `valid_from` (less the clock skew between machines) until `valid_until` plus a grace
        for records in flight. An agency's current key therefore signs reports of the past.
        """
        if received_at < self.valid_from - skew:
            return False
        return self.valid_until is None or received_at < self.valid_until + grace

    def status_at(self, moment: datetime) -> str:
        """ "revoked", "retired", "pending" (not yet valid) or "active" at `moment`."""
        if self.revoked_by(moment):
            return "revoked"
        if self.valid_until is not None and moment >= self.valid_until:
            return "retired"
        return "pending" if moment < self.valid_from else "active"

    def verifier(self) -> Ed25519PublicKey:
        """The `cryptography` public key object."""
        return Ed25519PublicKey.from_public_bytes(b64url_decode(self.public_key))


class KeyRegistryFile(BaseModel):
    """The on-disk form of the registry."""

    model_config = ConfigDict(extra="forbid")

    keys: list[KeyEntry] = Field(default_factory=list)


class KeyRegistry:
    """Lookup of public keys by id; loaded from and saved to a JSON file."""

    def __init__(self, entries: list[KeyEntry], path: Path | None = None) -> None:
        self.path = path
        self._by_kid: dict[str, KeyEntry] = {}
        self._verifiers: dict[str, Ed25519PublicKey] = {}
        for entry in entries:
            if entry.kid in self._by_kid:
                raise KeyRegistryError(f"{path or 'registry'}: key id {entry.kid!r} appears twice")
            self._by_kid[entry.kid] = entry

    @classmethod
    def load(cls, path: Path) -> KeyRegistry:
        """Read a registry file; a missing file is an empty registry."""
        if not path.exists():
            return cls([], path)
        try:
            parsed = KeyRegistryFile.model_validate_json(path.read_bytes())
        except ValidationError as exc:
            raise KeyRegistryError(f"{path}: {exc}") from None
        return cls(parsed.keys, path)

    def save(self, path: Path | None = None) -> Path:
        """Write the registry atomically (write a temp file, then rename)."""
        target = path or self.path
        if target is None:
            raise KeyRegistryError("no path to save the key registry to")
        target.parent.mkdir(parents=True, exist_ok=True)
        body = KeyRegistryFile(keys=list(self._by_kid.values())).model_dump_json(indent=2)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(body + "\n", encoding="utf-8")
        os.replace(tmp, target)
        return target

    def get(self, kid: str) -> KeyEntry | None:
        """The entry for a key id, or None."""
        return self._by_kid.get(kid)

    def public_key(self, kid: str) -> Ed25519PublicKey:
        """The cached verifier object for a key id (KeyError if unknown)."""
        verifier = self._verifiers.get(kid)
        if verifier is None:
            verifier = self._by_kid[kid].verifier()
            self._verifiers[kid] = verifier
        return verifier

    def entries(self) -> list[KeyEntry]:
        """All entries in file order."""
        return list(self._by_kid.values())

    def add(self, entry: KeyEntry) -> None:
        """Add a new public key."""
        if entry.kid in self._by_kid:
            raise KeyRegistryError(f"key id {entry.kid!r} is already registered")
        self._by_kid[entry.kid] = entry

    def replace(self, entry: KeyEntry) -> None:
        """Put a changed entry in place of the registered one with the same key id."""
        self._require(entry.kid)
        self._by_kid[entry.kid] = entry
        self._verifiers.pop(entry.kid, None)

    def revoke(self, kid: str, when: datetime | None = None) -> KeyEntry:
        """Mark a key revoked: nothing it signed verifies any more."""
        entry = self._require(kid)
        updated = entry.model_copy(update={"revoked": True, "revoked_at": when or _now()})
        self._by_kid[kid] = updated
        self._verifiers.pop(kid, None)
        return updated

    def retire(self, kid: str, when: datetime | None = None) -> KeyEntry:
        """End a key's validity window: it still verifies events dated before `when`."""
        entry = self._require(kid)
        updated = entry.model_copy(update={"valid_until": when or _now()})
        self._by_kid[kid] = updated
        return updated

    def active_keys(self, agency: str, at: datetime | None = None) -> list[KeyEntry]:
        """The agency's keys that are active (neither retired nor revoked) at `at` (default now)."""
        moment = at or _now()
        return [
            e
            for e in self._by_kid.values()
            if e.agency == agency and e.status_at(moment) == "active"
        ]

    def signing_problem(self, agency: str, kid: str, at: datetime | None = None) -> str | None:
        """Why key `kid` must not sign for `agency` now (one sentence with what to do), or None.

        The CLI asks before it signs or publishes, so it never emits an envelope that cannot
        verify.
        """
        moment = at or _now()
        entry = self._by_kid.get(kid)
        if entry is None:
            return (
                f"key {kid} is not registered: register it with `wbx keys new --agency "
                f"{agency}` (or ask the registry operators), then sign again"
            )
        if entry.agency != agency:
            return (
                f"key {kid} is registered for {entry.agency}, not {agency}: use --agency "
                f"{entry.agency}, or {agency}'s own key"
            )
        status = entry.status_at(moment)
        if status == "revoked":
            return (
                f"key {kid} was revoked at {entry.revoked_at}: make a new key with "
                f"`wbx keys new --agency {agency}`"
            )
        if status == "retired":
            return (
                f"key {kid} was retired at {entry.valid_until}: sign with {agency}'s current "
                "key (`wbx keys list`)"
            )
        return None

    def _require(self, kid: str) -> KeyEntry:
        entry = self._by_kid.get(kid)
        if entry is None:
            raise KeyRegistryError(f"key id {kid!r} is not in {self.path or 'the registry'}")
        return entry


def _now() -> datetime:
    return datetime.now(UTC)


def key_id(agency: str, public_key: Ed25519PublicKey) -> str:
    """A stable key id: the agency and the first 12 hex digits of the key's SHA-256."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return f"{agency}.{hashlib.sha256(raw).hexdigest()[:12]}"


def new_key_pair(
    agency: str, valid_from: datetime | None = None
) -> tuple[Ed25519PrivateKey, KeyEntry]:
    """Generate a key pair and the registry entry for its public half."""
    private = Ed25519PrivateKey.generate()
    public = private.public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    entry = KeyEntry(
        kid=key_id(agency, public),
        agency=agency,
        public_key=b64url_encode(raw),
        valid_from=valid_from or _now(),
    )
    return private, entry


def write_private_key(private: Ed25519PrivateKey, path: Path) -> Path:
    """Write a PKCS#8 PEM private key readable by its owner only (mode 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return path


def load_or_create_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 key at `path`, made (mode 0600) if there is none yet."""
    if not path.exists():
        write_private_key(Ed25519PrivateKey.generate(), path)
    return load_private_key(path)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read an Ed25519 private key from a PEM file."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise PrivateKeyError(f"{path}: no such private key file") from None
    except (ValueError, TypeError) as exc:
        raise PrivateKeyError(f"{path}: not a readable PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise PrivateKeyError(f"{path}: not an Ed25519 key")
    return key
