"""Quarantine records: what was rejected, why and where, in a record that is always writable.

Both hops quarantine what they cannot use. Whatever the input (megabytes of junk, a huge
Kafka key, lone surrogates in the fields we copy), the quarantine record stays small and
encodable: the original value is kept whole only up to a bound, otherwise as its SHA-256
digest plus a prefix; an oversize key likewise; copied text is bounded and made valid UTF-8.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime

from schemas.derived import QuarantineRecord

KEEP_VALUE_BYTES = 256 * 1024
"""Largest original value a quarantine record keeps whole (more is kept as digest + prefix)."""

KEEP_KEY_BYTES = 256
"""Largest Kafka key kept whole; a longer one becomes its digest (as record key and field)."""

DETAIL_CHARS = 2000
IDENTITY_CHARS = 200


@dataclass(frozen=True, slots=True)
class Position:
    """Where a record was read: topic, partition, offset."""

    topic: str
    partition: int
    offset: int

    def marker(self) -> str:
        """A compact form stored with a seen event to recognise redeliveries of this record."""
        return f"{self.partition}:{self.offset}"


def clean_text(text: str, limit: int) -> str:
    """`text` cut to `limit` characters and made encodable (lone surrogates escaped)."""
    cut = text if len(text) <= limit else text[:limit] + "…"
    return cut.encode("utf-8", "backslashreplace").decode("utf-8")


def quarantine_key(key: bytes | None) -> bytes | None:
    """The Kafka key of a quarantine record: the original key, or its digest when oversize."""
    if key is None or len(key) <= KEEP_KEY_BYTES:
        return key
    return b"sha256:" + hashlib.sha256(key).hexdigest().encode("ascii")


def quarantine_record(
    raw: bytes,
    position: Position,
    reason: str,
    detail: str,
    received_at: datetime,
    *,
    key: bytes | None = None,
    keep_original: bool = True,
    event_id: str | None = None,
    source: str | None = None,
) -> QuarantineRecord:
    """The quarantine record for a rejected input; never raises, never grows with the input.

    `keep_original=False` keeps only the digest (personal data past its sender's deadline).
    """
    kept = raw[:KEEP_VALUE_BYTES] if keep_original else None
    return QuarantineRecord(
        reason=clean_text(reason, 64),
        detail=clean_text(detail, DETAIL_CHARS),
        topic=position.topic,
        partition=position.partition,
        offset=position.offset,
        received_at=received_at,
        original_b64=None if kept is None else base64.b64encode(kept).decode("ascii"),
        original_size=len(raw),
        original_sha256=hashlib.sha256(raw).hexdigest(),
        original_truncated=kept is not None and len(kept) < len(raw),
        key_b64=None if key is None else base64.b64encode(key[:KEEP_KEY_BYTES]).decode("ascii"),
        key_size=0 if key is None else len(key),
        event_id=None if event_id is None else clean_text(event_id, IDENTITY_CHARS),
        source=None if source is None else clean_text(source, IDENTITY_CHARS),
    )


__all__ = [
    "KEEP_KEY_BYTES",
    "KEEP_VALUE_BYTES",
    "Position",
    "clean_text",
    "quarantine_key",
    "quarantine_record",
]
