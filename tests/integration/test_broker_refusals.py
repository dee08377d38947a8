"""A broker that is reachable but refuses what WBX asks gets a message naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from producers.outbox import Outbox
from producers.publisher import Publisher
from producers.settings import PublisherSettings
from schemas.errors import BrokerRefusedError
from schemas.settings import KafkaSettings

pytestmark = pytest.mark.integration

EVENT = {"type": "death_or_missing_person", "border_section": "MK-RS", "count": 1}


async def test_idempotent_producers_on_a_broker_without_them_are_refused_by_name(
    kafka_bootstrap: str, tmp_path: Path
):
    # The embedded broker has no idempotent producers (no InitProducerId).
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, idempotence=True)
    settings = PublisherSettings(outbox_dir=tmp_path, retry_initial=0.1, retry_max=0.5)
    outbox = Outbox.for_agency(tmp_path, "RS-BP", 100)
    publisher = Publisher("RS-BP", Ed25519PrivateKey.generate(), outbox, kafka, settings)
    await publisher.start()
    try:
        await publisher.publish(EVENT)
        with pytest.raises(BrokerRefusedError) as refused:
            await publisher.flush(timeout=30)
        message = str(refused.value)
        assert "refused an idempotent producer" in message
        assert "WBX_KAFKA_IDEMPOTENCE=false" in message and kafka_bootstrap in message
        assert outbox.backlog() == 1  # nothing lost: it waits in the outbox
    finally:
        await publisher.stop()
