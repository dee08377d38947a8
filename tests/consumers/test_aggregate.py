"""Aggregate stage and disclosure control without a broker."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from consumers.aggregate import StatsState
from consumers.disclosure import TOTAL, protect_group, suppress
from schemas.derived import Provenance, SharedRecord

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def record(
    persons,
    *,
    section="BA-ME",
    agency="BA-BP",
    kind="apprehension",
    time=NOW,
    event_id=None,
    group=None,
):
    data = {"border_section": section, "persons": persons}
    if kind == "apprehension":
        data |= {"direction": "entry", "group_size": group or max(1, len(persons))}
    return SharedRecord(
        record_id=str(uuid.uuid4()),
        view="pcc_operator",
        type=f"wbx.mixed_movement.{kind}",
        kind=kind,
        family="mixed_movement",
        time=time,
        agency=agency,
        participant=agency[:2],
        border_section=section,
        handling="H2",
        purpose="protection",
        retain_until=time + timedelta(days=90),
        reliability="B",
        accuracy=2,
        impact="medium",
        pseudonym_key_id="k",
        data=data,
        provenance=Provenance(
            event_id=event_id or str(uuid.uuid4()),
            source=f"urn:wbx:agency:{agency}",
            digest="0" * 64,
        ),
    )


def person(nat="AFG", sex="male", band="18-34", vulns=()):
    return {
        "nationality": nat,
        "sex": sex,
        "age_band": band,
        "child": band in ("0-13", "14-17"),
        "vulnerabilities": list(vulns),
    }


def cells(state, now=NOW):
    return {c.key: c for c in state.flush(now)}


def test_small_cells_are_suppressed_with_a_complement_and_totals_stay_exact():
    result = protect_group({"AFG": 10, "SYR": 3, "IRQ": 6, "CUB": 0})
    assert result["SYR"] == (None, "primary")
    assert result["IRQ"] == (None, "complementary")
    assert result["AFG"] == (10, "none") and result["CUB"] == (0, "none")
    assert result[TOTAL] == (19, "none")


def test_two_tiny_cells_get_a_third_hidden_with_them():
    result = suppress({"a": 1, "b": 1, "c": 7, "d": 9})
    hidden = {k for k, (v, _) in result.items() if v is None}
    assert hidden == {"a", "b", "c"}


def test_small_total_is_itself_suppressed():
    assert protect_group({"a": 3})[TOTAL] == (None, "primary")


@given(st.dictionaries(st.sampled_from("abcdefgh"), st.integers(0, 30), min_size=1))
def test_total_minus_visible_never_reveals_a_single_hidden_cell(counts):
    result = suppress(counts)
    hidden = [k for k, (v, _) in result.items() if v is None]
    for key, (value, _) in result.items():
        if value is not None:
            assert value == counts[key] and not 0 < value < 5
    if hidden:
        nonzero_visible = [k for k, (v, _) in result.items() if v]
        assert (len(hidden) >= 2 and sum(counts[k] for k in hidden) >= 5) or not nonzero_visible


def test_hand_computed_counts_by_day_week_and_month():
    state = StatsState()
    state.add(record([person("AFG")] * 6), NOW)
    state.add(
        record([person("SYR", "female", "14-17", ["uam"])] * 5, section="ME-RS", agency="ME-BP"),
        NOW,
    )
    state.add(record([person("AFG")] * 5, time=NOW - timedelta(days=1)), NOW)
    got = cells(state)
    assert got["day|2026-11-20|persons|nationality|AFG"].count == 6
    assert got["day|2026-11-20|persons|nationality|SYR"].count == 5
    assert got["day|2026-11-20|persons|vulnerability|uam"].count == 5
    assert got["day|2026-11-20|events|total|all"].display == "<5"
    assert got["week|2026-11-16|persons|nationality|AFG"].count == 11
    assert got["month|2026-11-01|persons|participant|BA"].count == 11
    assert got["day|2026-11-19|persons|border_section|BA-ME"].count == 5
    assert got["week|2026-11-16|persons|total|all"].window_end == date(2026, 11, 23)


def test_unlisted_members_of_a_group_count_as_unknown():
    state = StatsState()
    state.add(record([person("AFG")] * 2, group=7), NOW)
    got = cells(state)
    assert got["day|2026-11-20|persons|total|all"].count == 7
    unknown = got["day|2026-11-20|persons|nationality|unknown"]
    assert unknown.suppression == "complementary"  # else 7 - 5 reveals the 2 Afghans
    assert got["day|2026-11-20|persons|nationality|AFG"].suppression == "primary"
    assert got["day|2026-11-20|persons|nationality|__total__"].count == 7


def test_counting_is_idempotent_for_a_redelivered_event():
    state = StatsState()
    first = record([person()] * 6)
    assert state.add(first, NOW) == "counted"
    assert state.add(first, NOW) == "duplicate"
    again = record([person()] * 6, event_id=first.provenance.event_id)
    assert state.add(again, NOW) == "duplicate"
    assert cells(state)["day|2026-11-20|persons|total|all"].count == 6


def test_late_events_update_their_window_until_the_lateness_passes():
    state = StatsState(lateness=timedelta(days=2))
    state.flush(NOW)
    late = record([person()] * 5, time=NOW - timedelta(days=2))
    assert state.add(late, NOW) == "counted"
    assert "day|2026-11-18|persons|total|all" in cells(state)
    too_late = record([person()] * 5, time=NOW - timedelta(days=4))
    assert state.add(too_late, NOW) == "too_late"
    assert state.flush(NOW) == []
