"""Gateway feeds without a broker: each followed record reaches its view, junk is skipped."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.feeds import Feeds, describe
from gateway.views import PccAlerts, StatsView, escalation_for
from schemas.settings import KafkaSettings
from schemas.topics import ALERT_ACKS, STATS, alerts_topic
from tests.factories import make_alert

NOW_MS = int(datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp() * 1000)


def feeds() -> Feeds:
    views = {pcc: PccAlerts(100, 100) for pcc in ("pcc-plav", "pcc-trebinje")}
    return Feeds(KafkaSettings(bootstrap="127.0.0.1:1"), views, StatsView())


def test_alerts_reach_their_pcc_with_the_record_time_as_receipt():
    feed = feeds()
    alert = make_alert("pcc-plav")
    feed._dispatch(alerts_topic("pcc-plav"), alert.model_dump_json().encode(), NOW_MS)
    state = feed.alerts["pcc-plav"].alerts[alert.id]
    assert state.received_at == datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert not feed.alerts["pcc-trebinje"].alerts


def test_an_action_before_its_alert_waits_and_then_applies():
    feed = feeds()
    alert = make_alert("pcc-plav", severity="critical")
    view = feed.alerts["pcc-plav"]
    view.apply_alert(alert, datetime.now(UTC))
    action = escalation_for(view.alerts[alert.id], datetime.now(UTC))
    other = feeds()
    other._dispatch(ALERT_ACKS, action.model_dump_json().encode(), NOW_MS)
    assert other.pending_actions == [action]
    other._dispatch(alerts_topic("pcc-plav"), alert.model_dump_json().encode(), NOW_MS)
    assert other.pending_actions == []
    assert other.alerts["pcc-plav"].alerts[alert.id].escalated_at is not None


def test_junk_on_any_followed_topic_is_skipped_and_the_feed_goes_on():
    feed = feeds()
    for topic in (STATS, ALERT_ACKS, alerts_topic("pcc-plav")):
        for junk in (b"\xff", b"{}", b"[" * 5_000, b'{"key": 1}'):
            feed._dispatch(topic, junk, NOW_MS)
    feed._dispatch(STATS, None, NOW_MS)  # a tombstone on the compacted topic
    alert = make_alert("pcc-plav")
    feed._dispatch(alerts_topic("pcc-plav"), alert.model_dump_json().encode(), NOW_MS)
    assert describe(feed) == {"loaded": False, "alerts": 1, "stat_cells": 0}
