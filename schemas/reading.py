"""Reading topics from their beginning, to their current end or on and on.

Hop 2 rebuilds its state this way, the CLI reads the key registry and statistics, and a
publisher reads its receipts; the worker and the publishers may not import each other, so
the one reader lives with the contract.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiokafka import TopicPartition

from schemas.settings import KafkaSettings


async def read_to_end(kafka: KafkaSettings, topic_names: list[str]) -> list[Any]:
    """Every record in the topics (all partitions), from the beginning to their end now."""
    return [record async for batch in read_batches(kafka, topic_names) for record in batch]


async def read_batches(
    kafka: KafkaSettings, topic_names: list[str], *, follow: bool = False
) -> AsyncIterator[list[Any]]:
    """The records of the topics (all partitions) from the beginning to their end now, one
    fetch's worth at a time, so a reader of a long topic holds one batch, not the topic;
    with `follow`, then every new record until the caller stops.

    Ends are only a lower bound on the embedded broker, whose ListOffsets answers the base
    offset of a partition's last batch (+1): reading stops at the first position at or past
    the end, and the fetch that reaches it brings the rest of that batch too.
    """
    consumer = kafka.reader()
    await consumer.start()
    try:
        await consumer.topics()  # a metadata refresh that names no topic (never auto-creates)
        partitions = [
            TopicPartition(name, p)
            for name in topic_names
            for p in sorted(consumer.partitions_for_topic(name) or ())
        ]
        if not partitions:
            return
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        pending = [tp for tp in partitions if end[tp] > 0]
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=1000)
            for messages in batch.values():
                yield messages
            pending = [tp for tp in pending if await consumer.position(tp) < end[tp]]
        while follow:
            for messages in (await consumer.getmany(timeout_ms=1000)).values():
                yield messages
    finally:
        await consumer.stop()
