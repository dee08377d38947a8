"""Aggregate stage without a broker: windows, counts, idempotence, lateness, flushing."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from consumers.aggregate import AddResult, StatsState
from schemas.derived import Dimension, Measure, Period, SharedRecord, StatCell
from schemas.disclosure import Published
from schemas.tables import DIMENSIONS_OF
from tests.factories import PTABLE, record_key_of, shared_record

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SUN = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)  # ISO week 2026-11-23, month of November
MON = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # ISO week 2026-11-30, month of November
TUE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # ISO week 2026-11-30, month of December


def record(kind: str, data: dict[str, Any], **kw: Any) -> SharedRecord:
    return shared_record(kind, data, **{"time": NOW, **kw})


def person(
    nat: str = "AFG", sex: str = "male", band: str | None = "18-34", vulns: tuple[str, ...] = ()
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "nationality": nat,
        "sex": sex,
        "vulnerabilities": list(vulns),
        "document_number": "psn:doc:0f0f",
    }
    if band is not None:
        out |= {"age_band": band, "child": band in ("0-13", "14-17")}
    return out


def apprehension(
    persons: list[dict[str, Any]], group: int | None = None, **kw: Any
) -> SharedRecord:
    data = {"direction": "entry", "group_size": group or len(persons), "persons": persons}
    return record("apprehension", data, **kw)


def by_key(cells: list[StatCell]) -> dict[str, StatCell]:
    keyed = {c.key: c for c in cells}
    assert len(keyed) == len(cells), "a cell key was emitted twice in one flush"
    return keyed


def _week_events() -> list[SharedRecord]:
    """Five events over Sunday, Monday and Tuesday around a week and a month boundary."""
    events = [
        apprehension([person("AFG")] * 6, time=SUN),
        apprehension(
            [person("SYR", "female", "14-17", ("uam",))] * 3
            + [person("SYR", "female", "35-64")] * 2,
            group=8,
            time=MON,
        ),
        record(
            "irregular_crossing_attempt",
            {"direction": "entry", "group_size": 7, "prevented": True},
            agency="ME-BP",
            section="ME-RS",
            time=MON + timedelta(hours=12),
        ),
        record(
            "vulnerability_identified",
            {"person": person("AFG", band=None, vulns=("uam", "vot", "uam"))},
            agency="RS-MIG",
            section="MK-RS",
            time=TUE,
        ),
        record(
            "asylum_application",
            {"persons": [person("IRQ")] * 5},
            agency="RS-MIG",
            section="MK-RS",
            time=TUE + timedelta(hours=2),
        ),
    ]
    # Fixed record keys, as the Protect stage derives them from each event's identity.
    return [e.model_copy(update={"record_key": record_key_of(f"week-{i}")})
            for i, e in enumerate(events)]  # fmt: skip


@pytest.fixture
def week() -> StatsState:
    """The five events of `_week_events`, counted."""
    state = StatsState(PTABLE)
    assert [state.add(e, NOW) for e in _week_events()] == [AddResult.COUNTED] * 5
    return state


EXPECTED = {
    # (period, window start, measure, dimension, value): hand-computed exact count
    ("day", "2026-11-29", "persons", "total", "all"): 6,
    ("day", "2026-11-29", "persons", "age_band", "18-34"): 6,
    ("day", "2026-11-30", "persons", "total", "all"): 15,  # 5 listed + 3 unlisted + 7 group
    ("day", "2026-11-30", "persons", "participant", "BA"): 8,
    ("day", "2026-11-30", "persons", "participant", "ME"): 7,
    ("day", "2026-11-30", "persons", "border_section", "ME-RS"): 7,
    ("day", "2026-11-30", "persons", "nationality", "SYR"): 5,
    ("day", "2026-11-30", "persons", "nationality", "unknown"): 10,
    ("day", "2026-11-30", "persons", "sex", "unknown"): 10,
    ("day", "2026-11-30", "persons", "age_band", "14-17"): 3,
    ("day", "2026-11-30", "persons", "age_band", "unknown"): 10,
    ("day", "2026-11-30", "persons", "vulnerability", "uam"): 3,
    ("day", "2026-11-30", "events", "event_type", "irregular_crossing_attempt"): 1,
    ("day", "2026-12-01", "persons", "total", "all"): 6,
    ("day", "2026-12-01", "persons", "age_band", "unknown"): 1,
    ("day", "2026-12-01", "persons", "vulnerability", "uam"): 1,  # repeated flag counts once
    ("day", "2026-12-01", "persons", "vulnerability", "vot"): 1,
    ("week", "2026-11-23", "persons", "total", "all"): 6,
    ("week", "2026-11-30", "persons", "total", "all"): 21,
    ("week", "2026-11-30", "persons", "nationality", "AFG"): 1,
    ("week", "2026-11-30", "persons", "vulnerability", "uam"): 4,
    ("week", "2026-11-30", "persons", "participant", "RS"): 6,
    ("week", "2026-11-30", "events", "total", "all"): 4,
    ("month", "2026-11-01", "persons", "total", "all"): 21,
    ("month", "2026-11-01", "persons", "nationality", "AFG"): 6,
    ("month", "2026-11-01", "persons", "border_section", "BA-ME"): 14,
    ("month", "2026-11-01", "events", "event_type", "apprehension"): 2,
    ("month", "2026-12-01", "persons", "total", "all"): 6,
    ("month", "2026-12-01", "persons", "nationality", "AFG"): 1,
    ("month", "2026-12-01", "events", "participant", "RS"): 2,
}


@pytest.mark.parametrize(("cell", "expected"), EXPECTED.items(), ids=lambda v: str(v))
def test_hand_computed_exact_counts(week: StatsState, cell: tuple[str, ...], expected: int):
    period, start, measure, dimension, value = cell
    got = week.count(
        Period(period), date.fromisoformat(start), Measure(measure), Dimension(dimension), value
    )
    assert got == expected


def _true(state: StatsState, cell: StatCell) -> int:
    return state.count(cell.period, cell.window_start, cell.measure, cell.dimension, cell.value)


def test_published_cells_after_disclosure_control(week: StatsState):
    got = by_key(week.flush(NOW))
    for c in got.values():
        true = _true(week, c)
        shown = PTABLE.possible_counts(Published(c.count, c.display), 10_000)
        assert true in shown, (c.key, true, c.display)  # perturbed, never beyond the table
        assert c.count >= 5 and c.display == str(c.count)  # a 0 is left out, never 1-4
        assert "suppress" not in str(c.model_dump())  # nothing says how a cell was protected
    # A true 1-4 is left out (published 0) or shows 5, by its own cell key.
    smalls = ["day|2026-11-30|persons|age_band|14-17", "week|2026-11-30|persons|nationality|AFG",
              "month|2026-11-01|events|total|all"]  # fmt: skip
    for key in smalls:
        assert key not in got or got[key].display == "5", key
    assert {key in got for key in SMALL_KEYS} == {True, False}  # both happen in this week
    # A vulnerability breakdown's total counts people; each flag is a row of its own.
    assert _true(week, got["week|2026-11-30|persons|vulnerability|__total__"]) == 21
    uam = (Period.WEEK, date(2026, 11, 30), Measure.PERSONS, Dimension.VULNERABILITY, "uam")
    assert week.count(*uam) == 4
    assert _true(week, got["day|2026-11-29|persons|vulnerability|__total__"]) == 6
    cell = got["week|2026-11-30|persons|total|all"]
    assert (cell.window_start, cell.window_end) == (date(2026, 11, 30), date(2026, 12, 7))
    assert got["month|2026-11-01|persons|total|all"].window_end == date(2026, 12, 1)
    assert all(c.updated_at == NOW for c in got.values())
    # All five were counted at NOW, 2026-12-01 12:00, before anything was shown.
    assert got["day|2026-11-30|persons|total|all"].status == "final"
    assert got["week|2026-11-30|persons|total|all"].status == "open"
    assert got["month|2026-12-01|persons|total|all"].status == "open"


SMALL_KEYS = [
    "day|2026-11-30|persons|age_band|14-17",  # 3
    "week|2026-11-30|persons|nationality|AFG",  # 1
    "month|2026-11-01|events|total|all",  # 3
    "day|2026-11-30|persons|vulnerability|uam",  # 3
    "day|2026-12-01|persons|vulnerability|vot",  # 1
    "month|2026-12-01|persons|nationality|AFG",  # 1
    "day|2026-11-30|events|event_type|irregular_crossing_attempt",  # 1
]
"""Cells of the week whose true count is 1-4."""


def test_a_window_shown_open_is_published_again_as_final_when_it_ends():
    state = StatsState(PTABLE)
    state.add(apprehension([person()] * 6, time=MON), MON)
    assert {c.status for c in state.flush(MON) if c.period is Period.DAY} == {"open"}
    assert state.flush(MON + timedelta(hours=1)) == []  # nothing new while it runs
    ended = [c for c in state.flush(TUE) if c.period is Period.DAY]
    assert ended and {c.status for c in ended} == {"final"}
    assert state.flush(TUE + timedelta(hours=1)) == []
    state.add(apprehension([person()] * 2, time=MON), TUE)  # a late report for Monday
    late = [c for c in state.flush(TUE) if c.period is Period.DAY]
    assert late and {c.status for c in late} == {"revised"}


def test_the_same_records_give_the_same_published_values_whatever_the_order(week: StatsState):
    first = {c.key: c.display for c in week.all_cells(NOW)}
    again = StatsState(PTABLE)
    # The same five events, added in reverse: the same cells, the same noise.
    events = list(reversed(_week_events()))
    for event in events:
        again.add(event, NOW)
    assert {c.key: c.display for c in again.all_cells(NOW)} == first


def test_differencing_days_from_their_week_or_watching_updates_cannot_find_the_3():
    """The attack of issue 12: AFG has 3 persons on one day and 10 on each of six others."""
    state = StatsState(PTABLE, lateness=timedelta(days=30))
    monday = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    later = datetime(2026, 12, 20, tzinfo=UTC)
    updates: list[str] = []
    for day in range(7):
        for n in range(3 if day == 2 else 10):
            state.add(apprehension([person("AFG")], time=monday + timedelta(days=day, minutes=n)),
                      later)  # fmt: skip
            cell = by_key(state.flush(later)).get("week|2026-11-23|persons|nationality|AFG")
            updates.append("0" if cell is None else cell.display)
    got = by_key(state.all_cells(later))

    def shown(key: str) -> range:
        c = got.get(key)
        if c is None:  # left out: published as 0
            return PTABLE.possible_counts(Published(0, "0"), 1_000)
        return PTABLE.possible_counts(Published(c.count, c.display), 1_000)

    week = shown("week|2026-11-23|persons|nationality|AFG")
    others = [shown(f"day|2026-11-{23 + d}|persons|nationality|AFG") for d in range(7) if d != 2]
    hidden = shown("day|2026-11-25|persons|nationality|AFG")
    # Week minus the six other days: the interval of counts consistent with what is shown.
    low = week.start - sum(r.stop - 1 for r in others)
    high = (week.stop - 1) - sum(r.start for r in others)
    candidates = [n for n in hidden if low <= n <= high]
    assert len(candidates) > 1, candidates  # never pinned to one value
    hidden_cell = got.get("day|2026-11-25|persons|nationality|AFG")
    assert hidden_cell is None or hidden_cell.display == "5"  # 0 (left out) or 5, never 3
    # Watching the week: each arrival adds one person, but the shown value moves by noise.
    numbers = [int(u) for u in updates if u != "0"]
    moves = {b - a for a, b in itertools.pairwise(numbers)}
    assert moves != {1} and len(moves) > 1, moves


def test_every_group_of_a_dirty_window_has_its_total_cell(week: StatsState):
    dirty = week.dirty_windows
    cells = week.flush(NOW)
    groups = {c.key.rsplit("|", 1)[0] for c in cells}
    totals = {c.key.rsplit("|", 1)[0] for c in cells if c.value == "__total__"}
    expected = {
        f"{p}|{start.isoformat()}|{m}|{d}" for p, start, m in dirty for d in DIMENSIONS_OF[m]
    }
    # Every group of a dirty window is out with its total, unless the total is 1-4 and
    # published as 0 (then the group's other cells are 1-4 too, and may be left out).
    for group in expected - totals:
        period, start, measure, dimension = group.split("|")
        true = week.count(Period(period), date.fromisoformat(start), Measure(measure),
                          Dimension(dimension), "__total__")  # fmt: skip
        assert 0 < true < 5, group
    assert groups <= expected and totals <= groups


def test_flush_clears_dirty_and_then_publishes_only_changed_groups(week: StatsState):
    assert week.flush(NOW)
    assert week.dirty_windows == frozenset()
    assert week.flush(NOW) == []
    smuggling = record("migrant_smuggling", {"persons_smuggled": 4}, time=TUE)
    assert week.add(smuggling, NOW) == AddResult.COUNTED
    got = by_key(week.flush(NOW))
    assert {c.measure for c in got.values()} == {Measure.EVENTS}
    assert {(c.period, c.window_start) for c in got.values()} == {
        (Period.DAY, date(2026, 12, 1)),
        (Period.WEEK, date(2026, 11, 30)),
        (Period.MONTH, date(2026, 12, 1)),
    }
    smuggling_cell = got.get("day|2026-12-01|events|event_type|migrant_smuggling")
    assert smuggling_cell is None or smuggling_cell.display == "5"  # one event: 0 or 5
    assert week.flush(NOW) == []


def test_all_cells_republishes_everything_without_touching_dirty(week: StatsState):
    flushed = by_key(week.flush(NOW))
    assert by_key(week.all_cells(NOW)) == flushed
    assert week.flush(NOW) == []
    week.mark_all_dirty()
    assert by_key(week.flush(NOW)) == flushed


def test_a_late_event_within_lateness_updates_its_window_and_marks_it_dirty():
    state = StatsState(PTABLE, lateness=timedelta(days=2))
    state.add(apprehension([person()] * 6, time=NOW), NOW)
    state.flush(NOW)
    # Its day ended 2026-11-28T00:00Z; exactly two days later it is still accepted.
    late = apprehension([person()] * 5, time=datetime(2026, 11, 27, 23, 59, tzinfo=UTC))
    assert state.add(late, datetime(2026, 11, 30, 0, 0, tzinfo=UTC)) == AddResult.COUNTED
    got = by_key(state.flush(NOW))
    assert got["day|2026-11-27|persons|total|all"].count == 5
    assert got["week|2026-11-23|persons|total|all"].count == 5
    assert got["month|2026-11-01|persons|total|all"].count == 5
    assert not any(k.startswith("day|2026-12-01") for k in got)  # untouched window


def test_an_event_beyond_lateness_is_too_late_and_changes_nothing():
    state = StatsState(PTABLE, lateness=timedelta(days=2))
    state.add(apprehension([person()] * 6, time=NOW), NOW)
    state.flush(NOW)
    too_late = apprehension([person()] * 5, time=datetime(2026, 11, 27, 23, 59, tzinfo=UTC))
    just_after = datetime(2026, 11, 30, 0, 0, 1, tzinfo=UTC)
    assert state.add(too_late, just_after) == AddResult.TOO_LATE
    assert state.flush(NOW) == []
    day = date(2026, 11, 27)
    assert state.count(Period.DAY, day, Measure.EVENTS, Dimension.TOTAL, "all") == 0


def test_lateness_is_judged_in_utc_whatever_the_clock_zone():
    state = StatsState(PTABLE, lateness=timedelta(days=1))
    event = apprehension([person()] * 5, time=datetime(2026, 11, 29, 23, 0, tzinfo=UTC))
    # 2026-12-01T00:30+02:00 is 2026-11-30T22:30Z: the 29th closed 22.5 h ago, within a day.
    local_now = datetime.fromisoformat("2026-12-01T00:30:00+02:00")
    assert state.add(event, local_now) == AddResult.COUNTED
    with pytest.raises(ValueError, match="aware"):
        state.add(apprehension([person()]), datetime(2026, 12, 1, 12, 0))


def test_evict_drops_closed_windows():
    state = StatsState(PTABLE, lateness=timedelta(days=7))
    old = apprehension([person()] * 6, time=SUN)
    state.add(old, SUN)
    assert state.evict(NOW + timedelta(days=30)) == 0  # dirty: its last cells are not out
    state.flush(SUN)
    assert [c.records for c in state.take_fine()] == [1, 6]  # the event and its 6 people
    assert state.evict(SUN + timedelta(days=7)) == 0  # the day is still open to late events
    later = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # day and week closed 7.5 days ago
    # The day's and the week's windows, of events and of persons, go; the month stays, and
    # with it the day's tables it is the sum of.
    assert state.evict(later) == 2 * 2
    assert {c.period for c in state.all_cells(later)} == {Period.MONTH}
    assert state.sizes()["stat_days"] == 0 and state.sizes()["table_cells"] > 0
    assert state.add(old, later) == AddResult.TOO_LATE
    assert state.evict(datetime(2026, 12, 9, tzinfo=UTC)) == 2  # the month closes too
    assert state.sizes()["table_cells"] == 0
    assert state.all_cells(NOW) == []


def test_fine_cells_not_yet_taken_outlive_their_day():
    state = StatsState(PTABLE, lateness=timedelta(days=1))
    state.add(apprehension([person()] * 6, time=SUN), SUN)
    state.flush(SUN)
    state.evict(NOW + timedelta(days=60))
    assert state.sizes()["stat_days"] == 1  # the gateway has not had them yet
    assert [c.records for c in state.take_fine()] == [1, 6]
    state.evict(NOW + timedelta(days=60))
    assert state.sizes() == dict.fromkeys(state.sizes(), 0)
