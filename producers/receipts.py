"""Reading one agency's receipts from its topic: the publisher library and `wbx receipts`.

A publisher (or its operator) reads `wbx.receipts.<agency>.v1`, the only receipts topic
its Kafka principal may read, and checks each receipt against the platform's receipt key
(`WBX_RECEIPT_PUBLIC_KEY`). `wait_for_receipt` answers "did the platform take my event?"
for one event id. Receipts are immutable facts, so a receipt issued again for the same
record (a worker crashed after issuing it) says the same thing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from schemas.errors import WbxError
from schemas.reading import read_batches
from schemas.receipts import Receipt
from schemas.settings import KafkaSettings
from schemas.topics import receipts_topic

logger = logging.getLogger(__name__)


class ReceiptError(WbxError):
    """A receipt that does not carry the platform's signature, or none in time."""


@dataclass(frozen=True)
class Read:
    """One receipt as read, and whether the platform's key signed it (None: no key given)."""

    receipt: Receipt
    valid: bool | None


async def read_receipts(
    kafka: KafkaSettings,
    agency: str,
    trusted: Ed25519PublicKey | None = None,
    *,
    follow: bool = False,
) -> AsyncIterator[Read]:
    """The agency's receipts from the beginning of its topic; with `follow`, then every
    new one until cancelled. Records that are not receipts are logged and skipped."""
    topic = receipts_topic(agency)
    if await kafka.missing_topics([topic]):
        raise ReceiptError(f"the broker has no topic {topic}: run `wbx topics apply`")
    async for messages in read_batches(kafka, [topic], follow=follow):
        for message in messages:
            try:
                receipt = Receipt.model_validate_json(message.value or b"")
            except ValidationError as exc:
                logger.warning("not a receipt at %s@%d: %s", topic, message.offset, exc)
                continue
            valid = None if trusted is None else receipt.signature_valid(trusted)
            yield Read(receipt, valid)


async def wait_for_receipt(
    kafka: KafkaSettings,
    agency: str,
    event_id: str,
    trusted: Ed25519PublicKey | None,
    timeout: float,
) -> Receipt:
    """The platform's receipt for `event_id` of `agency`; ReceiptError when none arrives
    within `timeout` seconds or the one that does is not signed by `trusted`."""
    deadline = time.monotonic() + timeout

    async def first() -> Receipt:
        async for read in read_receipts(kafka, agency, trusted, follow=True):
            if read.receipt.event_id != event_id:
                continue
            if read.valid is False:
                raise ReceiptError(
                    f"the receipt for {event_id} is not signed by the platform's receipt key"
                )
            return read.receipt
        raise ReceiptError(f"the receipts of {agency} ended")  # follow never ends by itself

    try:
        return await asyncio.wait_for(first(), max(0.0, deadline - time.monotonic()))
    except TimeoutError:
        raise ReceiptError(f"no receipt for {event_id} within {timeout:g} s") from None
