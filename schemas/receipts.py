"""Signed receipts: what the platform tells a sender about each of its ingest records.

The Verify stage issues one for every record it can attribute to an agency, on that
agency's own topic (`wbx.receipts.<agency>.v1`): the event id, SHA-256 digests of the
record and of the sender's signature, the verdict (`ok`, `replay`, or the quarantine
reason), when the record was received and where it was read. The platform's receipt key
signs it like every platform record (`schemas.signed`), so the sender can prove the
platform received an event, and the platform can prove what it told the sender.
"""

from __future__ import annotations

from pydantic import AwareDatetime, ConfigDict, Field

from schemas.signed import RECEIPT_PURPOSE, SignedRecord

RECEIPT_KEY_PURPOSE = RECEIPT_PURPOSE
"""Receipt key ids read `receipt.<12 hex digits>`."""

OK = "ok"
REPLAY = "replay"
"""The verdict of an event accepted before from another record: it was not processed again."""


class Receipt(SignedRecord):
    """One receipt, as it is on the agency's receipts topic and at `GET /v1/receipts`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agency: str = Field(description="the agency the record claimed to come from")
    event_id: str | None = Field(description="the event's id, when the record named one")
    verdict: str = Field(
        description="`ok`, `replay`, or the reason the record was quarantined "
        "(`bad_signature`, `schema_invalid`, ...)"
    )
    detail: str = Field(default="", description="why, for a record that was not accepted")
    record_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="of the record value")
    signature_sha256: str | None = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="of the sender's `wbxsig` as sent (its text), when the record had one",
    )
    received_at: AwareDatetime = Field(description="the record's trusted receipt time")
    issued_at: AwareDatetime = Field(description="when the platform issued this receipt")
    topic: str
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)

    @property
    def accepted(self) -> bool:
        """Whether the platform took the event (now or from an earlier record)."""
        return self.verdict in (OK, REPLAY)
