"""Keeps the gateway's views in step with Kafka: replay each topic from the start, then follow."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from gateway import metrics
from gateway.views import AgencyEvents, AgencyReceipts, PccAlerts, StatsView, own_event
from schemas.derived import Alert, AlertAction, StatCell, utc_day
from schemas.receipts import Receipt
from schemas.registry_log import RegistryLog
from schemas.settings import KafkaSettings
from schemas.shredding import ShreddedError, Shredder
from schemas.tables import FineCell
from schemas.topics import (
    ALERT_ACKS,
    KEYS,
    STATS,
    STATS_FINE,
    VERIFIED,
    alerts_topic,
    receipts_topic,
)

logger = logging.getLogger(__name__)


class Feeds:
    """One consumer (no group: every instance reads everything) over alerts, actions, stats."""

    def __init__(
        self,
        kafka: KafkaSettings,
        alerts: dict[str, PccAlerts],
        stats: StatsView,
        keys: RegistryLog,
        receipts: dict[str, AgencyReceipts],
        events: dict[str, AgencyEvents] | None = None,
        on_change: Callable[[], None] | None = None,
        shredder: Shredder | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.kafka = kafka
        self.alerts = alerts
        self.stats = stats
        self.keys = keys
        self.receipts = receipts
        self.events = events or {}
        self.shredder = shredder
        """Opens what the workers sealed (verified records, alerts' identifying facts)."""
        self.clock = clock
        self.on_change = on_change
        self.loaded = asyncio.Event()
        self.pending_actions: list[AlertAction] = []
        self._topic_pcc = {alerts_topic(pcc): pcc for pcc in alerts}
        self._topic_agency = {receipts_topic(agency): agency for agency in receipts}

    async def run(self) -> None:
        """Replay and follow the topics until cancelled; reconnects after broker errors."""
        while True:
            try:
                await self._consume()
            except asyncio.CancelledError:
                raise
            except (KafkaError, OSError) as exc:
                logger.warning("gateway feed lost the broker (%s); retrying", exc)
                await asyncio.sleep(1.0)

    async def _consume(self) -> None:
        consumer = self.kafka.reader()
        await consumer.start()
        try:
            await consumer.topics()
            names = [*self._topic_pcc, ALERT_ACKS, STATS_FINE, STATS, KEYS, *self._topic_agency]
            if self.events:
                names.append(VERIFIED)
            partitions = [
                TopicPartition(name, p)
                for name in names
                for p in sorted(consumer.partitions_for_topic(name) or ())
            ]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            end = await consumer.end_offsets(partitions)
            # The views a PCC needs gate readiness; an agency's own events (weeks of them)
            # fill in behind, so a restart does not wait for them.
            behind = {tp for tp in partitions if end[tp] > 0 and tp.topic != VERIFIED}
            if not behind:
                self.loaded.set()
            while True:
                batch = await consumer.getmany(timeout_ms=200)
                for tp, messages in batch.items():
                    for message in messages:
                        self._dispatch(tp.topic, message.value, message.timestamp)
                if behind:
                    behind = {tp for tp in behind if await consumer.position(tp) < end[tp]}
                    if not behind:
                        self._apply_pending_actions()
                        self.loaded.set()
                        logger.info("gateway views loaded from Kafka")
                if batch and self.on_change is not None:
                    self.on_change()
        finally:
            await consumer.stop()

    def _dispatch(self, topic: str, value: bytes | None, timestamp_ms: int) -> None:
        if value is None:
            return  # a tombstone on a compacted topic: nothing here is ever deleted
        try:
            if topic == KEYS:
                self.keys.apply(value)
            elif topic == STATS_FINE:
                self.stats.apply_fine(FineCell.model_validate_json(value))
            elif topic == STATS:
                self.stats.apply(StatCell.model_validate_json(value))
            elif topic == VERIFIED:
                if self.shredder is not None:
                    try:
                        value = self.shredder.open_record(value, utc_day(self.clock()), VERIFIED)
                    except ShreddedError:
                        return  # past its sender's deadline: nothing to serve, nothing kept
                agency, event = own_event(value)
                own = self.events.get(agency)
                if own is not None:
                    own.apply(event)
            elif topic in self._topic_agency:
                receipt = Receipt.model_validate_json(value)
                self.receipts[self._topic_agency[topic]].apply(receipt)
            elif topic == ALERT_ACKS:
                action = AlertAction.model_validate_json(value)
                view = self.alerts.get(action.pcc)
                # An action can arrive before the alert it names when topics interleave.
                if view is not None and not view.apply_action(action):
                    self.pending_actions.append(action)
            else:
                received = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
                alert = Alert.model_validate_json(value)
                if self.shredder is not None:
                    alert = self._opened(alert)
                self.alerts[self._topic_pcc[topic]].apply_alert(alert, received)
                self._apply_pending_actions()
        except ValidationError as exc:
            metrics.UNREADABLE.labels(topic).inc()
            logger.warning("unreadable record on %s ignored: %s", topic, exc.errors()[:1])
        except Exception:  # a bug must cost one record, not the feed (and so every view)
            metrics.UNREADABLE.labels(topic).inc()
            logger.exception("record on %s could not be applied; ignored", topic)

    def _opened(self, alert: Alert) -> Alert:
        assert self.shredder is not None
        today = utc_day(self.clock())
        events = [
            e.model_copy(update={"summary": self.shredder.open_tree(e.summary, today)})
            for e in alert.events
        ]
        return alert.model_copy(update={"events": events})

    def _apply_pending_actions(self) -> None:
        if not self.pending_actions:
            return
        still: list[AlertAction] = []
        for action in self.pending_actions:
            view = self.alerts.get(action.pcc)
            if view is None or action.alert_id not in view.alerts:
                still.append(action)
            else:
                view.apply_action(action)
        self.pending_actions = still[-1000:]


def describe(feed: Feeds) -> dict[str, Any]:
    """Numbers for readiness and the status line."""
    return {
        "loaded": feed.loaded.is_set(),
        "alerts": sum(len(v.alerts) for v in feed.alerts.values()),
        "stat_cells": feed.stats.size,
    }
