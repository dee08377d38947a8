"""Receipts stage: a signed receipt for each ingest record the Verify stage judged.

Pure: the outcome and the record in, a `Receipt` (and the topic it goes to) out; the
agent in `consumers/pipeline.py` emits it. A record that names no agency (not JSON, no
valid `source`) gets no receipt: there is nobody to address it to, and its quarantine
record keeps it for the operators.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consumers.quarantine import IDENTITY_CHARS, Position, clean_text
from consumers.verify import Accepted, Outcome, Rejected
from schemas import strict_json
from schemas.envelope import agency_of
from schemas.receipts import OK, RECEIPT_KEY_PURPOSE, REPLAY, Receipt
from schemas.signed import key_id
from schemas.topics import TopicPlanError, receipts_topic


@dataclass(frozen=True)
class ReceiptSigner:
    """The platform's receipt key and its id."""

    private: Ed25519PrivateKey

    @cached_property
    def kid(self) -> str:
        """`receipt.` and 12 hex digits of the public key's SHA-256."""
        return key_id(self.private.public_key(), RECEIPT_KEY_PURPOSE)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _claimed(raw: bytes) -> tuple[str | None, str | None, str | None]:
    """The `source`, `id` and `wbxsig` a record claims, when it is an I-JSON object.

    Read as the contract reads (`strict_json`: bounded depth, no lone surrogates), so a
    hostile record cannot make the receipt fail; an `id` is cut as quarantine cuts it.
    """
    try:
        value = strict_json.loads(raw)
    except strict_json.NotIJsonError:
        return None, None, None
    if not isinstance(value, dict):
        return None, None, None
    source, event_id, signature = (value.get(n) for n in ("source", "id", "wbxsig"))
    return (
        source if isinstance(source, str) else None,
        clean_text(event_id, IDENTITY_CHARS) if isinstance(event_id, str) else None,
        signature if isinstance(signature, str) else None,
    )


def receipt_for(
    outcome: Outcome,
    raw: bytes | None,
    position: Position,
    received_at: datetime,
    issued_at: datetime,
    signer: ReceiptSigner,
    agencies: Collection[str],
) -> tuple[str, Receipt] | None:
    """The receipts topic and the signed receipt of one judged record; None when the
    record names none of `agencies` (the reference data's, which have receipts topics)."""
    data = raw or b""
    verdict, detail = OK, ""
    source: str | None
    event_id: str | None
    signature: str | None
    if isinstance(outcome, Accepted):  # the hot path: everything is known, nothing parsed
        source, event_id = outcome.envelope.source, outcome.envelope.id
        signature = outcome.envelope.wbxsig
    else:
        # What the record claims, to address the receipt and name the signature it carried.
        source, event_id, signature = _claimed(data)
        if isinstance(outcome, Rejected):
            source = outcome.record.source or source
            event_id = outcome.record.event_id or event_id
            verdict, detail = outcome.record.reason, outcome.record.detail
        else:
            source, event_id = outcome.event_key.split("|", 1)
            verdict = REPLAY
    if source is None:
        return None
    try:
        agency = agency_of(source)
        topic = receipts_topic(agency)
    except (ValueError, TopicPlanError):
        return None
    if agency not in agencies:
        return None
    receipt = Receipt(
        agency=agency,
        event_id=event_id,
        verdict=verdict,
        detail=detail,
        record_sha256=_sha256(data),
        signature_sha256=(
            _sha256(signature.encode("utf-8", "surrogatepass")) if signature is not None else None
        ),
        received_at=received_at,
        issued_at=issued_at,
        topic=position.topic,
        partition=position.partition,
        offset=position.offset,
        signer=signer.kid,
    )
    return topic, receipt.signed_with(signer.private)
