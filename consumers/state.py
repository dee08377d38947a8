"""The regional state behind hop 2: statistics and alert rules, rebuilt from Kafka at start.

Effectively-once without transactions: the state is a pure function of the events on
`wbx.shared.v1`, and the alert topics record which alerts were already sent. On start (or
when this worker takes over the shared partition) the state is rebuilt by replaying the
topic, alerts that a crash left unsent are sent, every statistic cell is re-published
(compacted, so re-publishing is idempotent), and records the agent then receives again are
recognised by their event key and skipped.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from consumers import metrics
from consumers.aggregate import StatsState
from consumers.app import Topics
from consumers.route import Router
from schemas.derived import Alert, SharedRecord, StatCell
from schemas.settings import KafkaSettings
from schemas.topics import SHARED

logger = logging.getLogger(__name__)


class RegionalState:
    """Stats, router, the set of event keys already applied and alert revisions already sent."""

    def __init__(
        self,
        topics: Topics,
        kafka: KafkaSettings,
        stats: StatsState,
        router: Router,
        horizon: timedelta,
    ) -> None:
        self.topics = topics
        self.kafka = kafka
        self.stats = stats
        self.router = router
        self.horizon = horizon
        self.known: dict[str, datetime] = {}
        self.sent: set[tuple[str, int]] = set()
        self.rebuilt = False
        self._lock = asyncio.Lock()
        self._applied = 0

    def apply(self, record: SharedRecord, now: datetime) -> list[Alert]:
        """Apply one shared record once; returns the alerts (or new revisions) not yet sent."""
        if record.event_key in self.known:
            metrics.DUPLICATES.labels("aggregate-route").inc()
            return []
        if record.retain_until <= now:
            logger.info("record %s past its retention deadline: ignored", record.record_id)
            return []
        self.known[record.event_key] = record.time
        if self.stats.add(record, now) == "too_late":
            metrics.LATE.inc()
        alerts = self.router.process(record)
        self._applied += 1
        if self._applied % 10_000 == 0:
            self._forget(now)
        return [a for a in alerts if (a.id, a.revision) not in self.sent]

    def mark_sent(self, alert: Alert) -> None:
        """Remember that an alert revision reached its topic."""
        self.sent.add((alert.id, alert.revision))

    def stats_to_publish(self, now: datetime) -> list[StatCell]:
        """Cells of every statistic group that changed since the last call."""
        return self.stats.flush(now)

    async def ensure_rebuilt(self, now: datetime) -> None:
        """Rebuild from the topics once, before the first record is applied."""
        if self.rebuilt:
            return
        async with self._lock:
            if self.rebuilt:
                return
            await self._rebuild(now)
            self.rebuilt = True

    async def _rebuild(self, now: datetime) -> None:
        alert_topics = [t.get_topic_name() for t in self.topics.alerts.values()]
        for value in await self._read_all(alert_topics):
            try:
                alert = Alert.model_validate_json(value)
            except ValidationError:
                continue
            self.sent.add((alert.id, alert.revision))
        pending: list[Alert] = []
        replayed = 0
        for value in await self._read_all([SHARED]):
            try:
                record = SharedRecord.model_validate_json(value)
                pending.extend(self.apply(record, now))
            except Exception:  # noqa: S112 - the agent quarantines it when it reads it again
                continue
            replayed += 1
        for alert in pending:
            if (alert.id, alert.revision) in self.sent:
                continue
            await self.topics.alerts[alert.pcc].send(
                key=alert.id.encode("ascii"), value=alert.model_dump_json().encode("utf-8")
            )
            self.mark_sent(alert)
        self.stats.mark_all_dirty()
        logger.info(
            "regional state rebuilt: %d shared records, %d alert revisions known, %d resent",
            replayed,
            len(self.sent),
            len(pending),
        )

    async def _read_all(self, topic_names: list[str]) -> list[bytes]:
        """Every record value currently in the topics, from the beginning to the end offsets."""
        consumer = AIOKafkaConsumer(
            enable_auto_commit=False, auto_offset_reset="earliest", **self.kafka.client_options()
        )
        await consumer.start()
        try:
            partitions: list[TopicPartition] = []
            for name in topic_names:
                for p in sorted(await _partitions(consumer, name)):
                    partitions.append(TopicPartition(name, p))
            if not partitions:
                return []
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            end = await consumer.end_offsets(partitions)
            values: list[bytes] = []
            remaining = {tp for tp in partitions if end[tp] > 0}
            while remaining:
                batch = await consumer.getmany(*remaining, timeout_ms=1000)
                for messages in batch.values():
                    values.extend(m.value for m in messages if m.value is not None)
                for tp in list(remaining):
                    if await consumer.position(tp) >= end[tp]:
                        remaining.discard(tp)
            return values
        finally:
            await consumer.stop()

    def _forget(self, now: datetime) -> None:
        cutoff = now - self.horizon
        for key in [k for k, t in self.known.items() if t < cutoff]:
            del self.known[key]
        self.stats.evict(now)


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    partitions: Any = consumer.partitions_for_topic(topic)
    if not partitions:
        await consumer.topics()  # forces a metadata refresh
        partitions = consumer.partitions_for_topic(topic)
    return set(partitions or ())


__all__ = ["RegionalState"]
