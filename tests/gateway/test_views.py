"""The gateway's in-memory views: alert revisions, actions, escalation, stream backlog, stats."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.views import (
    QUEUE_SIZE,
    PccAlerts,
    StatsQueryError,
    StatsView,
    TableQuery,
    escalation_for,
)
from schemas.derived import Alert, AlertAction, Dimension, Measure, Period, StatCell
from schemas.disclosure import TOTAL, Published
from schemas.vocab import ImpactLevel
from tests.factories import EXACT, PTABLE, fine_cell, make_alert

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


def test_stats_view_is_bounded_and_keeps_the_newest_days():
    view = StatsView(PTABLE, capacity=100)
    first = date(2026, 1, 1)
    for offset in range(1_000):
        for nat in ("AFG", "SYR"):
            view.apply_fine(fine_cell(first + timedelta(days=offset), nationality=nat))
        assert view.size <= 100
    kept = sorted(view.days)
    assert kept[-1] == first + timedelta(days=999)
    assert kept == [kept[-1] - timedelta(days=n) for n in reversed(range(len(kept)))]
    # A week or month that reaches back to a day that left is not answered: it would be short.
    weeks = view.table(TableQuery(Period.WEEK), NOW)
    assert weeks and all(c.window_start > view.floor for c in weeks)
    # The last day is 2028-09-26 and about 45 days are held: August 2028 is short.
    assert {c.window_start for c in view.table(TableQuery(Period.MONTH), NOW)} == {date(2028, 9, 1)}


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


def _cells(view: StatsView, query: TableQuery) -> dict[tuple[str, ...], str]:
    return {tuple(c.values.values()): c.display for c in view.table(query, NOW)}


def test_filters_choose_the_records_and_dates_the_windows():
    view = StatsView(EXACT)
    view.apply_fine(fine_cell(date(2026, 11, 1), 7, nationality="AFG", sex="female"))
    view.apply_fine(fine_cell(date(2026, 11, 2), 3, nationality="SYR", flags=("uam", "vot")))
    by_nat = TableQuery(by=(Dimension.NATIONALITY,))
    assert [(c.window_start.day, c.values, c.display) for c in view.table(by_nat, NOW)] == [
        (1, {Dimension.NATIONALITY: "AFG"}, "7"),
        (1, {Dimension.NATIONALITY: "__total__"}, "7"),
        (2, {Dimension.NATIONALITY: "SYR"}, "3"),
        (2, {Dimension.NATIONALITY: "__total__"}, "3"),
    ]
    males = replace(by_nat, filters={Dimension.SEX: ("male",)})
    assert _cells(view, males) == {("SYR",): "3", ("__total__",): "3"}
    assert _cells(view, replace(by_nat, start=date(2026, 11, 2))) == _cells(view, males)
    assert _cells(view, replace(by_nat, period=Period.MONTH)) == {
        ("AFG",): "7",
        ("SYR",): "3",
        ("__total__",): "10",
    }
    # One person with two flags is in both flags' rows and once in the total.
    flags = TableQuery(by=(Dimension.VULNERABILITY,), start=date(2026, 11, 2))
    assert _cells(view, flags) == {("uam",): "3", ("vot",): "3", ("__total__",): "3"}
    assert view.table(replace(by_nat, end=date(2026, 10, 31)), NOW) == []


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        (TableQuery(by=(Dimension.SEX,) * 2), "group_by", "sex is named twice"),
        (TableQuery(by=tuple(Dimension)[1:5]), "group_by", "at most 3 dimensions, not 4"),
        (TableQuery(Period.DAY, Measure.EVENTS, (Dimension.NATIONALITY,)), "group_by",
         "events cannot be broken down by nationality"),
        (TableQuery(measure=Measure.EVENTS, filters={Dimension.SEX: ("male",)}), "sex",
         "events cannot be broken down by sex"),
        (TableQuery(start=date(2026, 11, 2), end=date(2026, 11, 1)), "to", "ends (2026-11-01)"),
    ],
)  # fmt: skip
def test_a_table_it_cannot_build_is_refused_naming_the_field(query, field, words):
    with pytest.raises(StatsQueryError, match=re.escape(words)) as refused:
        StatsView(PTABLE).table(query, NOW)
    assert refused.value.field == field


def _crossed_week() -> StatsView:
    """Persons at two sections, of three nationalities and both sexes, over a week."""
    view = StatsView(PTABLE)
    for day in range(16, 23):
        for section, nat, sex, n in [
            ("MK-RS", "AFG", "male", 9 + day % 3), ("MK-RS", "AFG", "female", 2),
            ("MK-RS", "SYR", "male", 6), ("BA-RS", "AFG", "male", 1 + day % 2),
            ("BA-RS", "MAR", "female", 12), ("MK-RS", "SYR", "unknown", day % 4),
        ]:  # fmt: skip
            if n:
                view.apply_fine(fine_cell(date(2026, 11, day), n, section=section,
                                          nationality=nat, sex=sex))  # fmt: skip
    return view


SECTION_NAT_SEX = (Dimension.BORDER_SECTION, Dimension.NATIONALITY, Dimension.SEX)


def test_a_cross_table_section_by_nationality_by_sex_answers_with_margins_that_add_up():
    view = _crossed_week()
    # Without protection every margin is exactly the sum of the cells it totals.
    exact = StatsView(EXACT)
    exact.days = view.days
    table = TableQuery(Period.WEEK, by=SECTION_NAT_SEX)
    cells = {tuple(c.values.values()): c.count for c in exact.table(table, NOW)}
    assert cells[("MK-RS", "AFG", "__total__")] == 7 * 10 + 14
    for (section, nat, sex), count in cells.items():
        parts = [n for (s, a, x), n in cells.items() if (s, a) == (section, nat) and x != TOTAL
                 and sex == TOTAL]  # fmt: skip
        if parts:
            assert count == sum(parts), (section, nat)
    for margin in [(TOTAL, "AFG", "male"), (TOTAL, TOTAL, TOTAL), ("MK-RS", TOTAL, TOTAL)]:
        parts = [n for key, n in cells.items() if TOTAL not in key
                 and all(m in (TOTAL, k) for m, k in zip(margin, key, strict=True))]  # fmt: skip
        assert cells[margin] == sum(parts), margin
    # Protected, a margin is a cell of its own: within the noise of what it totals.
    shown = {tuple(c.values.values()): c for c in view.table(table, NOW)}
    assert shown.keys() == cells.keys()
    for key, cell in shown.items():
        truth = cells[key]
        assert truth in PTABLE.possible_counts(Published(cell.count, cell.display), 10_000)


def test_two_queries_that_produce_the_same_cell_give_the_same_value():
    view = _crossed_week()
    week = TableQuery(Period.WEEK, by=SECTION_NAT_SEX)
    crossed = _cells(view, week)
    by_section_nat = _cells(view, replace(week, by=SECTION_NAT_SEX[:2]))
    assert crossed[("MK-RS", "AFG", TOTAL)] == by_section_nat[("MK-RS", "AFG")]
    # The same records reached through filters: the same value again.
    afg = replace(week, by=(Dimension.BORDER_SECTION,), filters={Dimension.NATIONALITY: ("AFG",)})
    assert _cells(view, afg)[("MK-RS",)] == crossed[("MK-RS", "AFG", TOTAL)]
    assert _cells(view, afg)[(TOTAL,)] == crossed[(TOTAL, "AFG", TOTAL)]
    # And the same query asked twice, or with its dimensions in another order.
    assert _cells(view, week) == crossed
    swapped = _cells(view, replace(week, by=SECTION_NAT_SEX[::-1]))
    assert {k[::-1]: v for k, v in swapped.items()} == crossed


def test_a_window_status_comes_from_the_worker_or_the_clock():
    view = StatsView(PTABLE)
    view.apply_fine(fine_cell(date(2026, 11, 1)))
    view.apply_fine(fine_cell(NOW.date()))
    day = TableQuery(by=(Dimension.NATIONALITY,))
    assert {c.window_start: c.status for c in view.table(day, NOW)} == {
        date(2026, 11, 1): "final",
        NOW.date(): "open",
    }
    revised = StatCell(
        key="k", period=Period.DAY, window_start=date(2026, 11, 1),
        window_end=date(2026, 11, 2), measure=Measure.PERSONS, dimension=Dimension.TOTAL,
        value=TOTAL, count=7, display="7", status="revised", updated_at=NOW,
    )  # fmt: skip
    view.apply(revised)
    assert {c.status for c in view.table(day, NOW) if c.window_start.day == 1} == {"revised"}


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
