"""The gateway's in-memory views: alert revisions, actions, escalation, stream backlog, stats."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from gateway.views import QUEUE_SIZE, PccAlerts, StatsView, escalation_for
from schemas.derived import Alert, AlertAction, Dimension, Measure, Period
from schemas.vocab import ImpactLevel
from tests.factories import make_alert, stat_cell

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
LIMITS = {ImpactLevel.HIGH: timedelta(minutes=10), ImpactLevel.CRITICAL: timedelta(minutes=2)}


def alert(severity: str = "high", revision: int = 1, alert_id: str | None = None) -> Alert:
    return make_alert(severity=severity, revision=revision, alert_id=alert_id, now=NOW)


def ack(alert_id: str, action: str = "acknowledge", at: datetime = NOW) -> AlertAction:
    return AlertAction(
        action_id=f"{action}-{alert_id}",
        action=action,
        alert_id=alert_id,
        pcc="pcc-trebinje",
        by="op",
        at=at,
    )


def test_newer_revisions_replace_older_ones_and_old_ones_are_ignored():
    view = PccAlerts(100, 100)
    first = alert()
    view.apply_alert(first, NOW)
    view.apply_alert(alert(revision=3, alert_id=first.id), NOW)
    view.apply_alert(alert(revision=2, alert_id=first.id), NOW)
    assert view.alerts[first.id].alert.revision == 3
    assert view.seq == 2


def test_view_is_bounded_and_forgets_the_actions_of_evicted_alerts():
    view = PccAlerts(3, 100)
    for _ in range(1_000):
        item = alert("critical")
        view.apply_alert(item, NOW)
        view.apply_action(escalation_for(view.alerts[item.id], NOW))
    assert len(view.alerts) == 3
    assert len(view.actions) == 3


def test_stats_view_is_bounded_and_keeps_the_newest_windows():
    view = StatsView(capacity=100)
    first = date(2026, 1, 1)
    for offset in range(1_000):
        view.apply(stat_cell(first + timedelta(days=offset), "AFG"))
        assert len(view.cells) <= 100
    kept = sorted(c.window_start for c in view.cells.values())
    assert kept[-1] == first + timedelta(days=999)
    assert kept == [kept[-1] - timedelta(days=n) for n in reversed(range(len(kept)))]


def test_acknowledgement_applies_once_and_blocks_escalation():
    view = PccAlerts(100, 100)
    item = alert("critical")
    view.apply_alert(item, NOW)
    assert view.apply_action(ack(item.id))
    assert not view.apply_action(ack(item.id))
    assert view.alerts[item.id].status.value == "acknowledged"
    assert view.due_for_escalation(NOW + timedelta(hours=1), LIMITS) == []


def test_escalation_deadlines_per_severity():
    view = PccAlerts(100, 100)
    critical, high, low = alert("critical"), alert("high"), alert("low")
    for item in (critical, high, low):
        view.apply_alert(item, NOW)

    def due(minutes):
        return {
            s.alert.id for s in view.due_for_escalation(NOW + timedelta(minutes=minutes), LIMITS)
        }

    assert due(1) == set()
    assert due(2) == {critical.id}
    assert due(10) == {critical.id, high.id}
    state = view.alerts[critical.id]
    assert view.apply_action(escalation_for(state, NOW + timedelta(minutes=2)))
    assert state.status.value == "escalated"
    assert due(10) == {high.id}


def test_stream_backlog_resumes_after_a_given_id():
    view = PccAlerts(100, 2)
    ids = [alert() for _ in range(3)]
    for item in ids:
        view.apply_alert(item, NOW)
    assert [state.alert.id for _, state in view.since(1)] == [ids[1].id, ids[2].id]
    assert [seq for seq, _ in view.since(0)] == [2, 3]  # the backlog is bounded


def test_stats_query_filters_by_breakdown_values_and_dates():
    view = StatsView()
    view.apply(stat_cell(date(2026, 11, 1), "AFG", 7))
    view.apply(stat_cell(date(2026, 11, 2), "SYR", None))
    rows = view.query(Period.DAY, Measure.PERSONS, Dimension.NATIONALITY)
    assert [r.value for r in rows] == ["AFG", "SYR"]
    assert [
        r.value
        for r in view.query(Period.DAY, Measure.PERSONS, Dimension.NATIONALITY, values=["SYR"])
    ] == ["SYR"]
    assert (
        view.query(Period.DAY, Measure.PERSONS, Dimension.NATIONALITY, start=date(2026, 11, 2))[
            0
        ].value
        == "SYR"
    )
    assert view.query(Period.WEEK, Measure.PERSONS, Dimension.NATIONALITY) == []


def test_a_subscriber_gets_snapshots_that_later_changes_do_not_alter():
    view = PccAlerts(100, 100)
    queue = view.subscribe()
    item = alert("critical")
    view.apply_alert(item, NOW)
    view.apply_action(ack(item.id))
    first, second = queue.get_nowait(), queue.get_nowait()
    assert (first[1].status.value, second[1].status.value) == ("open", "acknowledged")
    view.unsubscribe(queue)
    view.apply_alert(alert(), NOW)
    assert queue.empty()


def test_disconnect_all_closes_every_stream_and_a_stalled_one_is_closed_too():
    view = PccAlerts(10_000, 100)
    quiet, stalled = view.subscribe(), view.subscribe()
    for _ in range(QUEUE_SIZE):
        view.apply_alert(alert(), NOW)
        quiet.get_nowait()  # a client that keeps up
    assert stalled.qsize() == QUEUE_SIZE
    view.apply_alert(alert(), NOW)  # one more than the stalled client can hold
    assert stalled not in view.subscribers
    assert list(iter_queue(stalled))[-1] is None  # told to reconnect, not left hanging
    assert view.disconnect_all() == 1
    assert quiet.get_nowait() is not None and quiet.get_nowait() is None
    assert view.subscribers == set()


def iter_queue(queue):
    while not queue.empty():
        yield queue.get_nowait()
