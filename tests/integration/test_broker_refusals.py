"""A broker that is reachable but refuses what WBX asks gets a message naming the setting."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from producers.outbox import Outbox
from producers.publisher import Publisher
from producers.settings import PublisherSettings
from schemas.errors import BrokerRefusedError
from schemas.settings import KafkaSettings
from schemas.topics import INGEST
from tests.integration.kafka_io import read_topic
from wbx.broker import EmbeddedBroker
from wbx.topics import apply_topics, reference_and_plan

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


async def test_a_missing_ingest_topic_is_named_and_the_event_waits_until_the_plan_is_applied(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    broker = EmbeddedBroker()  # a fresh broker: no topic plan applied
    broker.start()
    try:
        kafka = KafkaSettings(bootstrap=broker.bootstrap, idempotence=False)
        settings = PublisherSettings(outbox_dir=tmp_path, retry_initial=0.1, retry_max=0.5)
        outbox = Outbox.for_agency(tmp_path, "RS-BP", 100)
        publisher = Publisher("RS-BP", Ed25519PrivateKey.generate(), outbox, kafka, settings)
        await publisher.start()
        try:
            with caplog.at_level(logging.WARNING, logger="producers.publisher"):
                await publisher.publish(EVENT)
                assert not await publisher.flush(timeout=2)
            said = [r.getMessage() for r in caplog.records]
            assert any("has no topic wbx.ingest.v1" in m and "wbx topics apply" in m
                       for m in said), said  # fmt: skip
            assert not any("unreachable" in m for m in said)  # it is reachable
            assert outbox.backlog() == 1
            await apply_topics(kafka, reference_and_plan(kafka)[1])
            assert await publisher.flush(timeout=30)
        finally:
            await publisher.stop()
        assert len(await read_topic(broker.bootstrap, INGEST)) == 1
    finally:
        broker.stop()
