"""Regional state (hop 2): each event applied once, alerts sent once, every structure bounded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from consumers.aggregate import StatsState, fine_increments
from consumers.route import Router
from consumers.rules import load_rules
from consumers.settings import WorkerSettings
from consumers.state import EXPIRE_EVERY, Applied, Horizon, RegionalState
from schemas.derived import Dimension, Measure, Period, Provenance, SharedRecord
from schemas.reference import load_reference
from schemas.settings import ContractSettings
from tests.factories import NOW, PTABLE, shared_record

RULES = load_rules(Path(__file__).resolve().parents[2] / "infra" / "alert_rules.toml")
REFERENCE = load_reference(ContractSettings().reference_file)
LATENESS = timedelta(days=7)
HORIZON = timedelta(days=8)


def regional() -> RegionalState:
    return RegionalState(StatsState(PTABLE, lateness=LATENESS), Router(RULES, REFERENCE), HORIZON)


def person(doc: str = "psn:k:1", flags: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "nationality": "AFG",
        "sex": "male",
        "age_band": "14-17",
        "vulnerabilities": list(flags),
        "document_number": doc,
    }


def apprehension(persons: list[dict[str, Any]], **kw: Any) -> SharedRecord:
    data = {"direction": "entry", "group_size": len(persons), "persons": persons}
    return shared_record("apprehension", data, **kw)


def persons_today(state: RegionalState) -> int:
    return state.stats.count(Period.DAY, NOW.date(), Measure.PERSONS, Dimension.TOTAL, "all")


def test_the_same_event_twice_is_applied_once():
    state = regional()
    first = apprehension([person()] * 6)
    assert state.apply(first, NOW).outcome is Applied.APPLIED
    assert state.apply(first, NOW).outcome is Applied.DUPLICATE
    assert persons_today(state) == 6


def test_a_redelivered_event_never_changes_a_published_value():
    state = regional()
    first = apprehension([person()] * 6, event_id="7b1e0d52-95b4-4d0e-9a55-8f1f3a6c2d10")
    state.apply(first, NOW)
    shown = {c.key: c.display for c in state.stats.flush(NOW)}
    state.apply(first, NOW)  # the same record again
    state.apply(first.model_copy(update={"record_id": "another-record-of-it"}), NOW)
    assert state.stats.flush(NOW) == []  # nothing to publish: nothing changed
    assert {c.key: c.display for c in state.stats.all_cells(NOW)} == shown


def test_another_record_of_the_same_event_counts_once_and_ids_are_per_source():
    state = regional()
    first = apprehension([person()] * 6)
    again = apprehension([person()] * 9, event_id=first.provenance.event_id)
    assert again.record_id != first.record_id and again.event_key == first.event_key
    state.apply(first, NOW)
    assert state.apply(again, NOW).outcome is Applied.DUPLICATE
    other_source = apprehension(
        [person()] * 6, agency="RS-BP", section="HU-RS", event_id=first.provenance.event_id
    )
    assert state.apply(other_source, NOW).outcome is Applied.APPLIED
    assert persons_today(state) == 12


def test_a_redelivered_event_raises_no_alert_and_a_sent_revision_is_not_sent_again():
    state = regional()
    child = apprehension([person(flags=("uam",))])
    alerts = state.apply(child, NOW).alerts
    assert [a.rule for a in alerts] == ["protection_child_or_vot"]
    for alert in alerts:
        state.mark_sent(alert)
    assert state.apply(child, NOW).alerts == []
    # The same state rebuilt from scratch knows what was sent and sends nothing again.
    rebuilt = regional()
    sent = [a.model_dump_json().encode() for a in alerts]
    result = rebuilt.rebuild(sent, [child.model_dump_json().encode()], NOW)
    assert (result.replayed, result.known_sent, result.unsent) == (1, 1, [])


def test_a_rebuild_returns_the_alerts_a_crash_left_unsent_and_skips_junk():
    state = regional()
    child = apprehension([person(flags=("uam",))])
    result = state.rebuild([b"junk"], [b"\xff", child.model_dump_json().encode(), b"{}"], NOW)
    assert result.replayed == 1
    assert [a.rule for a in result.unsent] == ["protection_child_or_vot"]
    assert state.stats.dirty_windows  # every cell is re-published after a rebuild


def test_a_rebuild_counts_each_record_as_of_when_it_was_first_counted():
    """A restart after a day closed for good keeps it in its still open month."""
    day = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
    record = apprehension([person()] * 6, time=day).model_copy(
        update={"retain_until": day + timedelta(days=90)}
    )
    restart = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # the 2nd closed for good on the 10th
    month = (Period.MONTH, date(2026, 11, 1), Measure.PERSONS, Dimension.TOTAL, "all")
    as_first = regional()
    as_first.rebuild([], [(record.model_dump_json().encode(), day)], restart)
    assert as_first.stats.count(*month) == 6
    assert {c.key for c in as_first.stats_to_publish(restart)} >= {
        "month|2026-11-01|persons|total|all"
    }
    as_if_now = regional()  # judged at the restart, the record would be too late for November
    as_if_now.rebuild([], [record.model_dump_json().encode()], restart)
    assert as_if_now.stats.count(*month) == 0


def test_expired_and_too_old_records_change_nothing():
    state = regional()
    expired = apprehension([person()], time=NOW - timedelta(days=1))
    expired = expired.model_copy(update={"retain_until": NOW - timedelta(seconds=1)})
    assert state.apply(expired, NOW).outcome is Applied.EXPIRED
    old = apprehension([person()], time=NOW - HORIZON - timedelta(seconds=1))
    assert state.apply(old, NOW).outcome is Applied.TOO_OLD
    assert state.sizes()["counted"] == 0 and state.sizes()["fine_cells"] == 0


def test_a_late_record_still_feeds_the_rules_but_not_closed_statistics():
    state = regional()
    # Its day ended more than the lateness ago, yet it lies within the horizon.
    late = apprehension([person(flags=("uam",))], time=NOW - LATENESS - timedelta(hours=13))
    result = state.apply(late, NOW)
    assert result.outcome is Applied.LATE
    assert result.alerts  # the child is still reported to the PCC


def test_horizon_forgets_keys_by_event_time():
    horizon: Horizon[str] = Horizon(timedelta(hours=1))
    horizon.add("old", NOW - timedelta(hours=2))
    horizon.add("new", NOW)
    horizon.add("new", NOW - timedelta(days=9))  # keeps its first time
    assert horizon.expire(NOW) == 1
    assert "old" not in horizon and "new" in horizon and len(horizon) == 1


# --- a million records: every structure stays under its documented bound ---------------------

RECORDS = 1_000_000
SPACING = timedelta(seconds=6)  # 1,000,000 records over about 69 days
TEMPLATES = [
    apprehension([person()] * 3, section="MK-RS"),
    apprehension([person(flags=("uam",))], section="BA-ME"),
    shared_record("death_or_missing_person", {"count": 1}, section="BA-ME"),
    shared_record("irregular_crossing_attempt", {"direction": "exit", "group_size": 40}),
    apprehension([person()] * 2, section="ME-XK", agency="ME-BP"),
]


def _nth(index: int) -> SharedRecord:
    """Record `index`: a template with its own event, time and (reused) pseudonyms."""
    template = TEMPLATES[index % len(TEMPLATES)]
    moment = NOW + SPACING * index
    provenance = Provenance.model_construct(
        event_id=f"e{index}", source=template.provenance.source, digest="ab" * 32
    )
    data = template.data
    if "persons" in data:
        doc = f"psn:k:{index % 50_000}"  # the same person seen again, now and then
        data = {**data, "persons": [{**p, "document_number": doc} for p in data["persons"]]}
    return template.model_copy(
        update={
            "time": moment,
            "retain_until": moment + timedelta(days=90),
            "provenance": provenance,
            "data": data,
        }
    )


def _bounds(per_day: float) -> dict[str, float]:
    """The documented bounds (docs/processing.md) for records arriving `per_day`."""
    in_horizon = per_day * HORIZON.days + EXPIRE_EVERY
    rule_window = per_day * 3  # the longest rule window: secondary movement, 72 h
    open_days = LATENESS.days + 2
    open_windows = open_days + 3 + 2  # days, ISO weeks and months not closed for good
    # A day's tables stay while its week or month is open: a month, a straddling week, lateness.
    table_days = 31 + 6 + open_days
    combinations = {where for t in TEMPLATES for where, _, _ in fine_increments(t)}
    return {
        "counted": in_horizon,
        "sent": in_horizon,
        "stat_days": open_days,
        "fine_cells": open_days * len(combinations),
        "table_cells": table_days * 2 * len(Dimension) * 300,
        "dirty_windows": open_windows * 2,
        "shown_cells": open_windows * 2 * len(Dimension) * 300,
        "open_alerts": rule_window,
        "alert_expiry": rule_window,
        # Stateless rule kinds hold nothing; the surge keeps its baseline (7 days) and window
        # (6 h); secondary movement its sightings (3 persons a record at most) and their log.
        **{f"rule:{rule.id}": 0 for rule in RULES},
        "rule:surge": per_day * (7 + 1),
        "rule:secondary_movement": rule_window * 3 * 2,
        "unrouted_rules": len(RULES),
    }


@pytest.mark.timeout(1_200)  # about four minutes on the 2-core CI machine
def test_a_million_shared_records_keep_every_structure_under_its_bound():
    state = regional()
    per_day = timedelta(days=1) / SPACING
    bounds = _bounds(per_day)
    peaks: dict[str, int] = {}
    sent = 0
    for index in range(RECORDS):
        record = _nth(index)
        for alert in state.apply(record, record.time).alerts:
            state.mark_sent(alert)
            sent += 1
        if index % 1_000 == 0:
            state.stats_to_publish(record.time)  # the worker flushes every second
            state.fine_to_publish()
            state.router.take_unrouted()
        if index % 50_000 == 0:
            for name, size in state.sizes().items():
                peaks[name] = max(peaks.get(name, 0), size)
                assert size <= bounds[name], (index, name, size, bounds[name])
    assert set(peaks) == set(bounds)
    assert sent > 1_000 and peaks["rule:surge"] > 0 and peaks["rule:secondary_movement"] > 0
    # The bounds are reached, not vacuous: state holds about a horizon's worth of events.
    assert peaks["counted"] >= per_day * HORIZON.days * 0.9


def test_with_the_default_horizon_every_event_the_contract_accepts_reaches_the_rules():
    horizon = WorkerSettings().state_horizon
    assert horizon >= ContractSettings().max_event_age
    state = RegionalState(StatsState(PTABLE, lateness=LATENESS), Router(RULES, REFERENCE), horizon)
    death = shared_record("death_or_missing_person", {"count": 1}, time=NOW - timedelta(days=29))
    result = state.apply(death, NOW)
    assert result.outcome is Applied.LATE  # too late for the statistics, not for the PCC
    assert [a.rule for a in result.alerts] == ["death_or_missing"]
