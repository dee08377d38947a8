"""Checking a received envelope: one typed verdict with a reason code, never a bare bool.

This is the single implementation used by the Verify stage, the gateway and the CLI.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from pydantic import ValidationError

from schemas import strict_json
from schemas.canonical import b64url_decode, signing_input
from schemas.envelope import Envelope, agency_of, describe_errors, utc_iso
from schemas.json_types import json_type_name, parse_rfc3339
from schemas.keys import KeyRegistry
from schemas.reference import ReferenceData, load_reference
from schemas.settings import ContractSettings
from schemas.strict_json import excerpt


class Reason(StrEnum):
    """Why an envelope was accepted or rejected; the order of checks is the order here."""

    OK = "ok"
    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    SOURCE_MISMATCH = "source_mismatch"
    REVOKED_KEY = "revoked_key"
    KEY_NOT_VALID_AT_TIME = "key_not_valid_at_time"
    BAD_SIGNATURE = "bad_signature"
    SCHEMA_INVALID = "schema_invalid"
    TOO_OLD_OR_FUTURE = "too_old_or_future"
    RETENTION_EXPIRED = "retention_expired"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of verifying one record."""

    reason: Reason
    detail: str = ""
    envelope: Envelope | None = None
    digest: str | None = None  # SHA-256 hex of the signed bytes, for provenance
    read_id: str | None = None  # `id` and `source` as read when no envelope could be
    read_source: str | None = None  # validated, so a rejection can still name the event

    @property
    def ok(self) -> bool:
        """True only for an accepted envelope."""
        return self.reason is Reason.OK

    @property
    def event_id(self) -> str | None:
        """The event's `id`, when it could be read."""
        return self.envelope.id if self.envelope is not None else self.read_id

    @property
    def source(self) -> str | None:
        """The event's `source`, when it could be read."""
        return self.envelope.source if self.envelope is not None else self.read_source


def _at(moment: datetime | None) -> str:
    return utc_iso(moment) if moment is not None else "an unrecorded time"


def _parse_time(value: str) -> datetime | None:
    try:
        return parse_rfc3339(value)
    except ValueError:
        return None


class Verifier:
    """Verifies raw records against the key registry, the schemas and the clock window."""

    def __init__(
        self,
        registry: KeyRegistry,
        reference: ReferenceData | None = None,
        *,
        max_age: timedelta = timedelta(days=30),
        max_skew: timedelta = timedelta(minutes=5),
        key_grace: timedelta = timedelta(minutes=5),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.registry = registry
        self.reference = reference
        self.max_age = max_age
        self.max_skew = max_skew
        self.key_grace = key_grace
        self.clock = clock

    @classmethod
    def from_settings(
        cls, settings: ContractSettings | None = None, registry: KeyRegistry | None = None
    ) -> Verifier:
        """A verifier over `registry` (default: the seed file), reference data, clock window."""
        settings = settings or ContractSettings()
        return cls(
            registry if registry is not None else KeyRegistry.load(settings.key_registry),
            load_reference(settings.reference_file),
            max_age=settings.max_event_age,
            max_skew=settings.max_clock_skew,
            key_grace=settings.key_grace,
        )

    def verify_bytes(self, raw: bytes, *, received_at: datetime | None = None) -> Verdict:
        """Verify one record as received: I-JSON in UTF-8 of a structured-mode CloudEvent.

        Clock checks are judged at `received_at` (the trusted receipt time; default: now).
        """
        try:
            obj = strict_json.loads(raw)
        except strict_json.NotIJsonError as exc:
            return Verdict(Reason.MALFORMED, str(exc))
        return self.verify_object(obj, received_at=received_at)

    def verify_object(self, obj: Any, *, received_at: datetime | None = None) -> Verdict:
        """Verify one JSON value as `schemas.strict_json.loads` returns it; never raises."""
        verdict = self._verify(obj, self.clock() if received_at is None else received_at)
        if isinstance(obj, dict) and verdict.envelope is None:
            event_id, source = obj.get("id"), obj.get("source")
            return replace(
                verdict,
                read_id=event_id if isinstance(event_id, str) else None,
                read_source=source if isinstance(source, str) else None,
            )
        return verdict

    def _verify(self, obj: Any, now: datetime) -> Verdict:
        if not isinstance(obj, dict):
            return Verdict(Reason.MALFORMED, f"expected a JSON object, got {json_type_name(obj)}")
        missing = [
            k for k in ("source", "time", "wbxkeyid", "wbxsig") if not isinstance(obj.get(k), str)
        ]
        if missing:
            return Verdict(
                Reason.MALFORMED, f"missing or non-string attribute(s): {', '.join(missing)}"
            )
        kid: str = obj["wbxkeyid"]
        entry = self.registry.get(kid)
        if entry is None:
            return Verdict(
                Reason.UNKNOWN_KEY, f"wbxkeyid {excerpt(kid, 128)!r} is not in the key registry"
            )
        try:
            agency = agency_of(obj["source"])
        except ValueError as exc:
            return Verdict(Reason.MALFORMED, f"source: {exc}")
        if agency != entry.agency:
            return Verdict(
                Reason.SOURCE_MISMATCH, f"key {kid!r} belongs to {entry.agency}, source is {agency}"
            )
        if _parse_time(obj["time"]) is None:
            return Verdict(
                Reason.MALFORMED, f"time {excerpt(obj['time'])!r} is not RFC 3339 with an offset"
            )
        if entry.revoked_by(now):
            return Verdict(
                Reason.REVOKED_KEY,
                f"key {kid!r} was revoked at {_at(entry.revoked_at)}; "
                f"the record was received at {utc_iso(now)}",
            )
        if not entry.usable_at(now, self.key_grace, self.max_skew):
            until = (
                f"{utc_iso(entry.valid_until)} (+{self.key_grace} grace)"
                if entry.valid_until
                else "-"
            )
            return Verdict(
                Reason.KEY_NOT_VALID_AT_TIME,
                f"key {kid!r} is valid for records received from {utc_iso(entry.valid_from)} "
                f"until {until}; this one was received at {utc_iso(now)}",
            )
        try:
            signed = signing_input(obj)
        except ValueError as exc:  # JCS refuses values outside I-JSON (huge ints, NaN)
            return Verdict(Reason.MALFORMED, f"cannot canonicalise envelope: {exc}")
        try:
            self.registry.public_key(kid).verify(b64url_decode(obj["wbxsig"]), signed)
        except (ValueError, InvalidSignature):
            return Verdict(Reason.BAD_SIGNATURE, f"wbxsig does not verify with key {kid!r}")
        digest = hashlib.sha256(signed).hexdigest()
        try:
            envelope = Envelope.model_validate(obj)
        except ValidationError as exc:
            return Verdict(Reason.SCHEMA_INVALID, describe_errors(exc), digest=digest)
        if self.reference is not None and not self.reference.section_known(envelope.subject):
            return Verdict(
                Reason.SCHEMA_INVALID,
                f"subject: border section {envelope.subject!r} is not in the reference data",
                digest=digest,
            )
        if envelope.time < now - self.max_age or envelope.time > now + self.max_skew:
            return Verdict(
                Reason.TOO_OLD_OR_FUTURE,
                f"time {utc_iso(envelope.time)} is outside [{utc_iso(now - self.max_age)}, "
                f"{utc_iso(now + self.max_skew)}]: at most {self.max_age} old and "
                f"{self.max_skew} ahead of its receipt at {utc_iso(now)}",
                envelope,
                digest,
            )
        if envelope.wbxretainuntil <= now:
            return Verdict(
                Reason.RETENTION_EXPIRED,
                f"wbxretainuntil {utc_iso(envelope.wbxretainuntil)} had passed when the event "
                f"was received at {utc_iso(now)}",
                envelope,
                digest,
            )
        return Verdict(Reason.OK, "", envelope, digest)
