"""Verify stage: turn a raw ingest record into a verified envelope or a quarantine record.

Signature and schema checks are `schemas.verification.Verifier` (shared with the gateway and
the CLI); this module adds what only the stream needs: size limits, replay detection and the
quarantine record that keeps the original bytes and where they came from.
"""

from __future__ import annotations

import base64
import json
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.derived import QuarantineRecord
from schemas.envelope import Envelope
from schemas.verification import Reason, Verdict, Verifier

OVERSIZE = "oversize"
"""Quarantine reason for a record larger than the worker accepts (not a contract verdict)."""


@dataclass(frozen=True, slots=True)
class Position:
    """Where a record was read: topic, partition, offset."""

    topic: str
    partition: int
    offset: int

    def marker(self) -> str:
        """A compact form stored with a seen event to recognise redeliveries of this record."""
        return f"{self.partition}:{self.offset}"


@dataclass(frozen=True, slots=True)
class Accepted:
    """A verified envelope ready for the Protect stage."""

    envelope: Envelope
    digest: str
    raw: bytes


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record that goes to quarantine."""

    record: QuarantineRecord


@dataclass(frozen=True, slots=True)
class Replay:
    """An exact replay of an event already accepted from another record: dropped, counted."""

    event_key: str


Outcome = Accepted | Rejected | Replay


def quarantine_record(
    raw: bytes, position: Position, reason: str, detail: str, now: datetime
) -> QuarantineRecord:
    """The quarantine record for a rejected input, keeping the original bytes."""
    return QuarantineRecord(
        reason=reason,
        detail=detail[:2000],
        topic=position.topic,
        partition=position.partition,
        offset=position.offset,
        received_at=now,
        original_b64=base64.b64encode(raw).decode("ascii"),
        original_size=len(raw),
    )


def _identity(raw: bytes) -> dict[str, str]:
    """The `id` and `source` of a rejected record when they can be read, to help the sender."""
    try:
        obj = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return {}
    if not isinstance(obj, dict):
        return {}
    found = {"event_id": obj.get("id"), "source": obj.get("source")}
    return {k: v[:200] for k, v in found.items() if isinstance(v, str)}


def _rejected(raw: bytes, position: Position, verdict: Verdict, now: datetime) -> Rejected:
    record = quarantine_record(raw, position, verdict.reason.value, verdict.detail, now)
    return Rejected(record.model_copy(update=_identity(raw)))


class ReplayGuard:
    """Remembers accepted (source, id) pairs for a bounded horizon to drop exact replays.

    `seen` maps `source|id` to `marker|event-epoch`; it is a faust table in the worker (so it
    survives restarts through its changelog) and a dict in tests. The marker tells a
    redelivery of the same Kafka record (processed again after a crash: let it through,
    downstream is idempotent) from a publisher sending the same event again (drop it).
    """

    def __init__(self, seen: MutableMapping[str, str], horizon: timedelta) -> None:
        self.seen = seen
        self.horizon = horizon

    def check_and_remember(self, envelope: Envelope, position: Position) -> bool:
        """True when the event is new (or a redelivery of the same record), False for a replay."""
        key = f"{envelope.source}|{envelope.id}"
        previous = self.seen.get(key)
        marker = position.marker()
        if previous is not None and previous.split("|", 1)[0] != marker:
            return False
        if previous is None:
            self.seen[key] = f"{marker}|{envelope.time.timestamp():.0f}"
        return True

    def expire(self, now: datetime, partition: int | None = None) -> int:
        """Forget pairs older than the horizon (only those read from `partition`, if given).

        The worker expires per partition while processing that partition's records, because
        a faust table writes each change to the changelog partition of the current record.
        """
        cutoff = (now - self.horizon).timestamp()
        prefix = f"{partition}:" if partition is not None else ""
        stale = [
            k
            for k, v in list(self.seen.items())
            if v.startswith(prefix) and float(v.rsplit("|", 1)[1]) < cutoff
        ]
        for key in stale:
            del self.seen[key]
        return len(stale)


def verify_record(
    raw: bytes | None,
    position: Position,
    verifier: Verifier,
    guard: ReplayGuard,
    *,
    max_bytes: int,
    now: datetime,
) -> Outcome:
    """Run every check on one ingest record; never raises for bad input."""
    data = raw or b""
    if len(data) > max_bytes:
        detail = f"record is {len(data)} bytes, the limit is {max_bytes}; first {max_bytes} kept"
        return Rejected(quarantine_record(data[:max_bytes], position, OVERSIZE, detail, now))
    verdict = verifier.verify_bytes(data)
    if not verdict.ok or verdict.envelope is None or verdict.digest is None:
        return _rejected(data, position, verdict, now)
    envelope = verdict.envelope
    if not guard.check_and_remember(envelope, position):
        return Replay(f"{envelope.source}|{envelope.id}")
    return Accepted(envelope, verdict.digest, data)


__all__ = [
    "OVERSIZE",
    "Accepted",
    "Outcome",
    "Position",
    "Reason",
    "Rejected",
    "Replay",
    "ReplayGuard",
    "quarantine_record",
    "verify_record",
]
