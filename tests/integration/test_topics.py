"""The topic plan applied to the embedded broker: idempotent, complete, usable."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from schemas.topics import INGEST, TopicSpec
from tests.integration.conftest import kafka_settings
from wbx.broker import EmbeddedBroker
from wbx.topics import apply_topics

pytestmark = pytest.mark.integration


async def _topic_layout(bootstrap: str) -> dict[str, tuple[int, int]]:
    """Every topic on the broker: (partition count, replicas of partition 0)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        # List first, then describe only existing names: describing an unknown name would
        # create it on Tansu and hide a missing topic.
        names = await admin.list_topics()
        described = await admin.describe_topics(names) if names else []
    finally:
        await admin.close()
    return {
        t["topic"]: (len(t["partitions"]), len(t["partitions"][0]["replicas"])) for t in described
    }


async def test_apply_twice_creates_only_once(topic_plan: list[TopicSpec]) -> None:
    names = [s.name for s in topic_plan]
    with EmbeddedBroker() as broker:
        settings = kafka_settings(broker.bootstrap)
        first = await apply_topics(settings, topic_plan)
        second = await apply_topics(settings, topic_plan)
    assert sorted(first.created) == sorted(names)
    assert first.unchanged == [] and first.changed == []
    assert second.created == [] and second.changed == []
    assert sorted(second.unchanged) == sorted(names)
    # Capping replication to the single broker is the only remark a named cluster gets.
    assert [w for w in second.warnings if not w.startswith("replication capped to 1")] == []


async def test_reapply_on_session_broker_creates_nothing(
    kafka_bootstrap: str, topic_plan: list[TopicSpec]
) -> None:
    report = await apply_topics(kafka_settings(kafka_bootstrap), topic_plan)
    assert report.created == []
    assert sorted(report.unchanged) == sorted(s.name for s in topic_plan)


async def test_every_planned_topic_exists_with_its_partitions(
    kafka_bootstrap: str, topic_plan: list[TopicSpec]
) -> None:
    layout = await _topic_layout(kafka_bootstrap)
    for spec in topic_plan:
        assert spec.name in layout, f"{spec.name} was not created"
        partitions, replicas = layout[spec.name]
        assert partitions == spec.partitions, spec.name
        # The plan says 3; a single broker can hold one replica.
        assert replicas == 1, spec.name
    assert "wbx.alerts.pcc-trebinje.v1" in layout
    assert "wbx.alerts.pcc-plav.v1" in layout


async def test_missing_topics_reports_without_creating(
    kafka_bootstrap: str, topic_plan: list[TopicSpec]
) -> None:
    settings = kafka_settings(kafka_bootstrap)
    absent = f"wbx.absent-{uuid.uuid4().hex[:8]}.v1"
    assert await settings.missing_topics([s.name for s in topic_plan]) == []
    assert await settings.missing_topics([INGEST, absent]) == [absent]
    assert absent not in await _topic_layout(kafka_bootstrap)


async def test_growing_partitions_is_reported_not_fatal(kafka_bootstrap: str) -> None:
    settings = kafka_settings(kafka_bootstrap)
    small = TopicSpec(
        name=f"wbx.grow-{uuid.uuid4().hex[:8]}.v1",
        description="test topic",
        partitions=1,
        replication_factor=1,
        retention_ms=60_000,
        cleanup_policy="delete",
        readers=["test"],
        writers=["test"],
    )
    assert (await apply_topics(settings, [small])).created == [small.name]
    bigger = small.model_copy(update={"partitions": 3})
    report = await apply_topics(settings, [bigger])
    assert report.created == []
    partitions = (await _topic_layout(kafka_bootstrap))[small.name][0]
    if partitions == 3:
        assert report.changed == [small.name]
    else:
        # Tansu offers no CreatePartitions: the applier must say so rather than claim success.
        assert report.changed == []
        assert any(small.name in w and "partitions" in w for w in report.warnings), report


async def test_produce_consume_round_trip_on_ingest(kafka_bootstrap: str) -> None:
    value = f"round-trip {uuid.uuid4()}".encode()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        sent = await producer.send_and_wait(INGEST, value=value, key=b"BA-ME")
    finally:
        await producer.stop()
    assert sent.topic == INGEST
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partition = TopicPartition(INGEST, sent.partition)
        consumer.assign([partition])
        consumer.seek(partition, sent.offset)
        record = await consumer.getone()
    finally:
        await consumer.stop()
    assert (record.key, record.value, record.offset) == (b"BA-ME", value, sent.offset)
