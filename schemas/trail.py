"""Reading the audit trail from Kafka: the walk, the checkpoints, queries.

Record by record (`schemas.reading.read_batches`), so a walk holds one summary per chain
and a query one row per matching fact, never the topic. The gateway (for the
data-protection officer's API) and the CLI (`wbx audit`, `wbx dpo`) both read it so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from schemas.audit import (
    AuditCheckpoint,
    AuditQuery,
    AuditRecord,
    AuditReport,
    Stored,
    TrailVerifier,
    audit_record_of,
    checkpoint_of,
    latest_checkpoints,
)
from schemas.reading import read_batches
from schemas.settings import KafkaSettings
from schemas.topics import AUDIT, AUDIT_CHECKPOINTS


async def stored_records(kafka: KafkaSettings, topic: str) -> AsyncIterator[Stored]:
    """Every record of `topic`, in order within each partition, with its position."""
    async for batch in read_batches(kafka, [topic]):
        for record in batch:
            yield Stored(record.partition, record.offset, record.value or b"")


async def published_checkpoints(kafka: KafkaSettings) -> list[AuditCheckpoint]:
    """The latest readable checkpoint of each chain on `wbx.audit.checkpoints.v1`."""
    found = [
        one
        async for stored in stored_records(kafka, AUDIT_CHECKPOINTS)
        if (one := checkpoint_of(stored.value)) is not None
    ]
    return latest_checkpoints(found)


def still_held(
    checkpoints: Iterable[AuditCheckpoint], now: datetime, retention: timedelta
) -> list[AuditCheckpoint]:
    """The checkpoints whose records retention cannot have removed yet (a day's margin)."""
    return [c for c in checkpoints if c.at > now - retention + timedelta(days=1)]


async def verify_trail(
    kafka: KafkaSettings,
    trusted: Mapping[str, Ed25519PublicKey],
    checkpoints: Iterable[AuditCheckpoint],
) -> AuditReport:
    """Walk `wbx.audit.v1` against `checkpoints`; the report names each chain's first break."""
    starts: dict[int, int] = {}
    verifier = TrailVerifier(trusted, topic=AUDIT, checkpoints=checkpoints)
    async for stored in stored_records(kafka, AUDIT):
        # The first offset read of a partition is its oldest held: what retention left.
        if stored.partition not in starts:
            starts[stored.partition] = stored.offset
            verifier.partition_start(stored.partition, stored.offset)
        verifier.feed(stored)
    return verifier.finish()


async def query_trail(
    kafka: KafkaSettings, query: AuditQuery, limit: int | None = None
) -> list[AuditRecord]:
    """The records of the trail that answer `query`, once per fact (a redelivered or
    re-released fact has the same `audit_id`), oldest first, at most `limit`."""
    found: dict[str, AuditRecord] = {}
    async for stored in stored_records(kafka, AUDIT):
        record = audit_record_of(stored.value)
        if record is None or record.audit_id in found or not query.matches(record):
            continue
        found[record.audit_id] = record
    rows = sorted(found.values(), key=lambda r: (r.at, r.audit_id))
    return rows if limit is None else rows[:limit]
