"""Gateway feeds without a broker: each followed record reaches its view, junk is skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consumers.route import seal_alert
from gateway.feeds import Feeds, describe
from gateway.views import AgencyEvents, AgencyReceipts, PccAlerts, StatsView, escalation_for
from schemas.keys import KeyRegistry, new_key_pair
from schemas.registry_log import RegistryLog, sign_change
from schemas.settings import KafkaSettings
from schemas.shredding import FileKeyStore, Shredder
from schemas.topics import (
    ALERT_ACKS,
    KEYS,
    STATS,
    STATS_FINE,
    VERIFIED,
    alerts_topic,
    receipts_topic,
)
from tests.factories import PTABLE, envelope, fine_cell, make_alert, make_receipt, record

NOW_MS = int(datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp() * 1000)


REGISTRY_KEY = Ed25519PrivateKey.generate()


def feeds() -> Feeds:
    views = {pcc: PccAlerts(100, 100) for pcc in ("pcc-plav", "pcc-trebinje")}
    keys = RegistryLog(KeyRegistry([]), REGISTRY_KEY.public_key())
    receipts = {agency: AgencyReceipts(100) for agency in ("RS-BP", "BA-BP")}
    kafka = KafkaSettings(bootstrap="127.0.0.1:1")
    return Feeds(kafka, views, StatsView(PTABLE), keys, receipts)


def test_receipts_reach_their_agency_only_and_junk_is_skipped():
    feed = feeds()
    receipt = make_receipt("RS-BP", "bad_signature")
    feed._dispatch(receipts_topic("RS-BP"), receipt.model_dump_json().encode(), NOW_MS)
    feed._dispatch(receipts_topic("RS-BP"), b'{"agency": "RS-BP"}', NOW_MS)  # not a receipt
    assert feed.receipts["RS-BP"].query() == [receipt]
    assert feed.receipts["BA-BP"].query() == []


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
    for topic in (STATS, STATS_FINE, ALERT_ACKS, KEYS, alerts_topic("pcc-plav")):
        for junk in (b"\xff", b"{}", b"[" * 5_000, b'{"key": 1}'):
            feed._dispatch(topic, junk, NOW_MS)
    feed._dispatch(STATS, None, NOW_MS)  # a tombstone on the compacted topic
    alert = make_alert("pcc-plav")
    feed._dispatch(alerts_topic("pcc-plav"), alert.model_dump_json().encode(), NOW_MS)
    fine = fine_cell(datetime(2026, 11, 20, tzinfo=UTC).date())
    feed._dispatch(STATS_FINE, fine.model_dump_json().encode(), NOW_MS)
    assert describe(feed) == {"loaded": False, "alerts": 1, "stat_cells": 1}


def test_a_key_change_on_the_registry_topic_reaches_the_gateways_verifier():
    feed = feeds()
    _, entry = new_key_pair("RS-BP")
    feed._dispatch(KEYS, sign_change("add", entry, REGISTRY_KEY), NOW_MS)
    assert feed.keys.registry.get(entry.kid) == entry
    _, other = new_key_pair("ME-BP")
    feed._dispatch(KEYS, sign_change("add", other, Ed25519PrivateKey.generate()), NOW_MS)
    assert feed.keys.registry.get(other.kid) is None  # not the registry key's signature


def test_sealed_verified_records_and_alert_facts_are_opened_and_shredded_ones_skipped(tmp_path):
    now = datetime.now(UTC)
    shredder = Shredder(FileKeyStore(tmp_path))
    feed = feeds()
    feed.events = {"RS-BP": AgencyEvents(10)}
    feed.shredder, feed.clock = shredder, lambda: now
    deadline = now + timedelta(days=2)
    raw = record(envelope(time=now, overrides={"wbxretainuntil": deadline.isoformat()}))
    feed._dispatch(VERIFIED, shredder.seal_record(raw, deadline, now.date(), VERIFIED), NOW_MS)
    (kept,) = feed.events["RS-BP"].query(now, since=None, until=None, limit=10)
    assert kept.raw == raw  # as signed
    alert = make_alert("pcc-plav", now=now)
    sealed = seal_alert(alert, shredder, now.date())
    feed._dispatch(alerts_topic("pcc-plav"), sealed.model_dump_json().encode(), NOW_MS)
    shown = feed.alerts["pcc-plav"].alerts[alert.id].alert
    assert shown.events[0].summary == alert.events[0].summary  # the operator reads them
    # A record whose day's key is gone is not kept, and nothing breaks.
    other = record(envelope(time=now, overrides={"wbxretainuntil": deadline.isoformat()}))
    late = shredder.seal_record(other, deadline, now.date(), VERIFIED)
    shredder.store.destroy_before(deadline.date() + timedelta(days=1))
    feed._dispatch(VERIFIED, late, NOW_MS)
    assert len(feed.events["RS-BP"]) == 1
