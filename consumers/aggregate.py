"""Aggregate stage: regional statistics in tumbling windows, counted exactly once.

Pure state, no broker: the faust agent feeds it shared records and publishes what `flush`
returns. Windows are the event's UTC day, ISO week (Monday start) and calendar month.

* `events`: one per event, by total, participant, border section and event type.
* `persons`: one per person listed in the event's data (`persons` list and/or a single
  `person`), by total, participant, border section, nationality, sex, age band ('unknown'
  when missing) and vulnerability (one count per distinct flag, so the vulnerability group's
  total counts flags, not people). Apprehensions and irregular crossing attempts also count
  the members of `group_size` that are not listed, as 'unknown' nationality, sex and age band.
  These are person-reports: a person reported in two events counts twice.

Every change marks its (period, window start, measure, dimension) group dirty; `flush`
publishes dirty groups after disclosure control (`consumers.disclosure.protect_group`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from consumers.disclosure import DEFAULT_THRESHOLD, TOTAL, protect_group
from schemas.derived import (
    Dimension,
    Measure,
    Period,
    SharedRecord,
    StatCell,
    utc_day,
    window_bounds,
)
from schemas.payloads.border_incident import IrregularCrossingAttempt
from schemas.payloads.mixed_movement import Apprehension

GroupKey = tuple[Period, date, Measure, Dimension]
Cell = tuple[Dimension, str]
ALL = "all"
UNKNOWN = "unknown"
_GROUP_SIZE_KINDS = frozenset({Apprehension.kind, IrregularCrossingAttempt.kind})


class AddResult(StrEnum):
    """What `StatsState.add` did with a record."""

    COUNTED = "counted"
    TOO_LATE = "too_late"


def _midnight(day: date) -> datetime:
    """The UTC instant a day starts (and the previous one ends)."""
    return datetime.combine(day, time(), UTC)


def _aware(now: datetime) -> datetime:
    """`now`, refusing a naive datetime (it cannot be compared with UTC window ends)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now


def _label(person: dict[str, Any], field: str) -> str:
    """A person's value for one dimension, 'unknown' when the view left it out."""
    value = person.get(field)
    return str(value) if isinstance(value, str) and value else UNKNOWN


def event_cells(record: SharedRecord) -> list[Cell]:
    """The `events` cells one record adds 1 to."""
    return [
        (Dimension.TOTAL, ALL),
        (Dimension.PARTICIPANT, record.participant.value),
        (Dimension.BORDER_SECTION, record.border_section),
        (Dimension.EVENT_TYPE, record.kind),
    ]


def person_cells(record: SharedRecord) -> list[Cell]:
    """The `persons` cells one record adds to, one entry per increment."""
    where = [
        (Dimension.TOTAL, ALL),
        (Dimension.PARTICIPANT, record.participant.value),
        (Dimension.BORDER_SECTION, record.border_section),
    ]
    cells: list[Cell] = []
    persons = record.persons()
    for person in persons:
        cells += where
        cells += [
            (Dimension.NATIONALITY, _label(person, "nationality")),
            (Dimension.SEX, _label(person, "sex")),
            (Dimension.AGE_BAND, _label(person, "age_band")),
        ]
        flags = person.get("vulnerabilities")
        if isinstance(flags, list):
            # A flag repeated in one person's list is still one vulnerable person.
            distinct = dict.fromkeys(str(f) for f in flags if isinstance(f, str) and f)
            cells += [(Dimension.VULNERABILITY, flag) for flag in distinct]
    group_size = record.data.get("group_size")
    if record.kind in _GROUP_SIZE_KINDS and type(group_size) is int:
        # The group is the headcount; unlisted members are still people who crossed.
        unlisted = max(0, group_size - len(persons))
        unknown = [(d, UNKNOWN) for d in (Dimension.NATIONALITY, Dimension.SEX, Dimension.AGE_BAND)]
        cells += (where + unknown) * unlisted
    return cells


def _tally(cells: Iterable[Cell]) -> dict[Dimension, dict[str, int]]:
    """Increments per dimension and value."""
    out: dict[Dimension, dict[str, int]] = {}
    for dimension, value in cells:
        values = out.setdefault(dimension, {})
        values[value] = values.get(value, 0) + 1
    return out


class StatsState:
    """Counts per window and group, and the groups changed since the last flush.

    It does not remember which events it counted: `consumers.state.RegionalState` applies
    each event once. Bound: the groups of windows not yet closed for good (a window is kept
    until `lateness` after its end), times the dimensions and their values.
    """

    def __init__(
        self, lateness: timedelta = timedelta(days=7), threshold: int = DEFAULT_THRESHOLD
    ) -> None:
        self.lateness = lateness
        self.threshold = threshold
        self._counts: dict[GroupKey, dict[str, int]] = {}
        self._dirty: set[GroupKey] = set()

    @property
    def dirty_groups(self) -> frozenset[GroupKey]:
        """The groups `flush` would publish now."""
        return frozenset(self._dirty)

    def count(
        self, period: Period, start: date, measure: Measure, dimension: Dimension, value: str
    ) -> int:
        """The exact count of one cell before disclosure control (never publish this)."""
        return self._counts.get((period, start, measure, dimension), {}).get(value, 0)

    def _closed_for_good(self, end: date, now: datetime) -> bool:
        """True once a window ending on `end` can no longer take late events."""
        return _midnight(end) + self.lateness < _aware(now)

    def add(self, record: SharedRecord, now: datetime) -> AddResult:
        """Count one record (the caller applies each event once) unless its day closed too
        long ago."""
        day = utc_day(record.time)
        if self._closed_for_good(window_bounds(Period.DAY, day)[1], now):
            return AddResult.TOO_LATE
        # Tally once per record, then add the tallies to each window: cells repeat (one per
        # person) and there are six windows (three periods, two measures).
        tallies = {
            Measure.EVENTS: _tally(event_cells(record)),
            Measure.PERSONS: _tally(person_cells(record)),
        }
        for period in Period:
            start, _ = window_bounds(period, day)
            for measure, by_dimension in tallies.items():
                for dimension, values in by_dimension.items():
                    group = (period, start, measure, dimension)
                    counts = self._counts.setdefault(group, {})
                    for value, n in values.items():
                        counts[value] = counts.get(value, 0) + n
                    self._dirty.add(group)
        return AddResult.COUNTED

    def _publish(self, groups: Iterable[GroupKey], now: datetime) -> list[StatCell]:
        """Published cells of the given groups after disclosure control, in a stable order."""
        out: list[StatCell] = []
        for group in sorted(groups, key=lambda g: (g[0].value, g[1], g[2].value, g[3].value)):
            counts = self._counts.get(group)
            if counts is None:
                continue  # evicted meanwhile: nothing left to say about it
            period, start, measure, dimension = group
            _, end = window_bounds(period, start)
            published = protect_group(counts, TOTAL, self.threshold)
            for value in [*sorted(counts), TOTAL]:
                count, why = published[value]
                out.append(
                    StatCell(
                        key=f"{period.value}|{start.isoformat()}|{measure.value}|"
                        f"{dimension.value}|{value}",
                        period=period,
                        window_start=start,
                        window_end=end,
                        measure=measure,
                        dimension=dimension,
                        value=value,
                        count=count,
                        suppressed=count is None,
                        suppression=why,
                        display=f"<{self.threshold}" if count is None else str(count),
                        updated_at=now,
                    )
                )
        return out

    def flush(self, now: datetime) -> list[StatCell]:
        """Cells (with `__total__`) of every group changed since the last flush; clears them."""
        groups, self._dirty = self._dirty, set()
        return self._publish(groups, now)

    def all_cells(self, now: datetime) -> list[StatCell]:
        """Every cell of every group held (to re-publish after a restart rebuild)."""
        return self._publish(self._counts, now)

    def mark_all_dirty(self) -> None:
        """Publish every group at the next flush (after a rebuild)."""
        self._dirty = set(self._counts)

    def evict(self, now: datetime) -> int:
        """Drop windows closed for longer than the lateness; returns how many groups went."""
        # A dirty group's last cells are not out yet, so it waits for the next flush.
        gone = [
            g
            for g in self._counts
            if g not in self._dirty and self._closed_for_good(window_bounds(g[0], g[1])[1], now)
        ]
        for group in gone:
            del self._counts[group]
        return len(gone)

    def sizes(self) -> dict[str, int]:
        """Entries held: groups, cells, and groups waiting to be published."""
        return {
            "stat_groups": len(self._counts),
            "stat_cells": sum(len(c) for c in self._counts.values()),
            "dirty_groups": len(self._dirty),
        }
