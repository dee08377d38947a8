"""Verify stage: turn a raw ingest record into a verified envelope or a quarantine record.

Signature and schema checks are `schemas.verification.Verifier` (shared with the gateway and
the CLI); this module adds what only the stream needs: the receipt time, size limits, replay
detection, and the (bounded) quarantine record of what was refused and where it came from.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from consumers.quarantine import Position, quarantine_record
from schemas.derived import QuarantineRecord
from schemas.envelope import Envelope
from schemas.verification import Reason, Verdict, Verifier

logger = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

OVERSIZE = "oversize"
"""Quarantine reason for a record larger than the worker accepts (not a contract verdict)."""

UNPROCESSABLE = "unprocessable"
"""Quarantine reason when checking a record failed in a way no check anticipated (a bug)."""


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


def receipt_time(timestamp: float | None, now: datetime, max_delay: timedelta) -> datetime:
    """A record's trusted receipt time: its Kafka timestamp, within [now - max_delay, now].

    The gateway stamps the records it forwards with the instant it answered the sender, so
    the worker judges the clock checks at the very instant the gateway did, however far
    behind it is. A timestamp in the future or older than `max_delay` (a producer's own
    clock, or a forged one) is clamped, so a sender gains at most `max_delay` of leeway.
    """
    if timestamp is None or timestamp <= 0:
        return now
    try:
        # Kafka stamps whole milliseconds; faust hands them over as float seconds, so round
        # back to the exact millisecond the gateway judged at.
        stamped = _EPOCH + timedelta(milliseconds=round(timestamp * 1000))
    except (OverflowError, ValueError):
        return now
    return min(now, max(stamped, now - max_delay))


def _rejected(
    raw: bytes, key: bytes | None, position: Position, verdict: Verdict, received_at: datetime
) -> Rejected:
    # Past the sender's deadline the record's personal data must not be kept: digest only.
    keep = verdict.reason is not Reason.RETENTION_EXPIRED
    return Rejected(
        quarantine_record(
            raw,
            position,
            verdict.reason.value,
            verdict.detail,
            received_at,
            key=key,
            keep_original=keep,
            event_id=verdict.event_id,
            source=verdict.source,
        )
    )


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
    received_at: datetime,
    key: bytes | None = None,
) -> Outcome:
    """Exactly one outcome for any record value and key; never raises.

    Clock checks are judged at `received_at`, the record's trusted receipt time.
    """
    data = raw or b""
    try:
        if len(data) > max_bytes:
            detail = f"record is {len(data)} bytes, the limit is {max_bytes}"
            return Rejected(
                quarantine_record(data, position, OVERSIZE, detail, received_at, key=key)
            )
        verdict = verifier.verify_bytes(data, received_at=received_at)
        if not verdict.ok or verdict.envelope is None or verdict.digest is None:
            return _rejected(data, key, position, verdict, received_at)
        envelope = verdict.envelope
        if not guard.check_and_remember(envelope, position):
            return Replay(f"{envelope.source}|{envelope.id}")
        return Accepted(envelope, verdict.digest, data)
    except Exception as exc:  # the stage must stay total: a bug costs one record, not the stream
        logger.exception("checking the record at %s failed unexpectedly", position)
        detail = f"{type(exc).__name__} while checking the record: {exc}"
        return Rejected(
            quarantine_record(data, position, UNPROCESSABLE, detail, received_at, key=key)
        )


__all__ = [
    "OVERSIZE",
    "UNPROCESSABLE",
    "Accepted",
    "Outcome",
    "Reason",
    "Rejected",
    "Replay",
    "ReplayGuard",
    "receipt_time",
    "verify_record",
]
