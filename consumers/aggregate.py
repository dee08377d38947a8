"""Aggregate stage: regional statistics in tumbling windows, counted exactly once.

Pure state, no broker: the faust agent feeds it shared records and publishes what `flush`
returns. Windows are the event's UTC day, ISO week (Monday start) and calendar month.

* `events`: one per event, by total, participant, border section and event type.
* `persons`: one per person listed in the event's data (`persons` list and/or a single
  `person`), by total, participant, border section, nationality, sex, age band ('unknown'
  when missing) and vulnerability (one row per distinct flag; the group's total counts
  people). Apprehensions and irregular crossing attempts also count
  the members of `group_size` that are not listed, as 'unknown' nationality, sex and age band.
  These are person-reports: a person reported in two events counts twice.

Every change marks its (period, window start, measure, dimension) group dirty; `flush`
publishes dirty groups, each cell through the perturbation table (`consumers.disclosure`):
the cell's true count and the sum of its records' keys decide what is shown. A group's
`__total__` counts events or people (a person with two vulnerability flags is one person
in the total and appears in both flags' rows). Each cell says whether its window is open,
final, or revised by a late report.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from consumers.disclosure import KEY_SPACE, TOTAL, PerturbationTable, person_key
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


def person_cells(record: SharedRecord) -> list[tuple[range, Cell]]:
    """The `persons` cells one record adds to: (the indices of the persons in it, cell).

    Unlisted members of a group share their cells, so a group of 300 costs one entry per cell.
    """
    where = [
        (Dimension.TOTAL, ALL),
        (Dimension.PARTICIPANT, record.participant.value),
        (Dimension.BORDER_SECTION, record.border_section),
    ]
    cells: list[tuple[range, Cell]] = []
    persons = record.persons()
    for index, person in enumerate(persons):
        mine = [
            *where,
            (Dimension.NATIONALITY, _label(person, "nationality")),
            (Dimension.SEX, _label(person, "sex")),
            (Dimension.AGE_BAND, _label(person, "age_band")),
        ]
        flags = person.get("vulnerabilities")
        if isinstance(flags, list):
            # A flag repeated in one person's list is still one vulnerable person.
            distinct = dict.fromkeys(str(f) for f in flags if isinstance(f, str) and f)
            mine += [(Dimension.VULNERABILITY, flag) for flag in distinct]
        one = range(index, index + 1)
        cells += [(one, cell) for cell in mine]
    unlisted = range(len(persons), person_count(record))
    if unlisted:
        # The group is the headcount; unlisted members are still people who crossed.
        unknown = [(d, UNKNOWN) for d in (Dimension.NATIONALITY, Dimension.SEX, Dimension.AGE_BAND)]
        cells += [(unlisted, cell) for cell in (*where, *unknown)]
    return cells


def person_count(record: SharedRecord) -> int:
    """The persons an event counts: those listed, or its group size when that is larger."""
    listed = len(record.persons())
    group_size = record.data.get("group_size")
    if record.kind in _GROUP_SIZE_KINDS and type(group_size) is int:
        return max(listed, group_size)
    return listed


Tally = dict[Dimension, dict[str, tuple[int, int]]]
"""Per dimension and value: (records, sum of their record keys modulo 2^32)."""


def _tally(keyed: Iterable[tuple[int, int, Cell]]) -> Tally:
    """Counts and key sums per dimension and value, from (records, key sum, cell) triples."""
    out: Tally = {}
    for n, key, (dimension, value) in keyed:
        values = out.setdefault(dimension, {})
        old_n, keys = values.get(value, (0, 0))
        values[value] = (old_n + n, (keys + key) % KEY_SPACE)
    return out


EVENT_DIMENSIONS = (Dimension.TOTAL, Dimension.PARTICIPANT, Dimension.BORDER_SECTION,
                    Dimension.EVENT_TYPE)  # fmt: skip
PERSON_DIMENSIONS = (Dimension.TOTAL, Dimension.PARTICIPANT, Dimension.BORDER_SECTION,
                     Dimension.NATIONALITY, Dimension.SEX, Dimension.AGE_BAND,
                     Dimension.VULNERABILITY)  # fmt: skip
"""Every group a measure has: each record adds to the total of all of them, so a group's
total counts events or people, also where values overlap (a person with two flags)."""


def tallies(record: SharedRecord) -> dict[Measure, tuple[Tally, tuple[int, int]]]:
    """What one record adds, per measure: the cells, and (records, key sum) of its total."""
    people = [person_key(record.record_key, i) for i in range(person_count(record))]
    persons = _tally(
        (len(who), sum(people[who.start : who.stop]), cell) for who, cell in person_cells(record)
    )
    return {
        Measure.EVENTS: (
            _tally((1, record.record_key, cell) for cell in event_cells(record)),
            (1, record.record_key % KEY_SPACE),
        ),
        Measure.PERSONS: (persons, (len(people), sum(people) % KEY_SPACE)),
    }


class StatsState:
    """True counts and key sums per window and group, and the groups changed since the last
    flush; every cell leaves through the perturbation table (`consumers.disclosure`).

    It does not remember which events it counted: `consumers.state.RegionalState` applies
    each event once. Bound: the groups of windows not yet closed for good (a window is kept
    until `lateness` after its end), times the dimensions and their values.
    """

    def __init__(self, ptable: PerturbationTable, lateness: timedelta = timedelta(days=7)) -> None:
        self.ptable = ptable
        self.lateness = lateness
        # Per group and value: [true count, sum of record keys mod 2^32] (mutable: hot path).
        self._counts: dict[GroupKey, dict[str, list[int]]] = {}
        self._dirty: set[GroupKey] = set()
        self._revised: set[GroupKey] = set()
        self._published: set[GroupKey] = set()
        # Groups last published while their window was open: published once more when it
        # ends, so no cell on the compacted topic says "open" for ever.
        self._shown_open: set[GroupKey] = set()

    @property
    def dirty_groups(self) -> frozenset[GroupKey]:
        """The groups `flush` would publish now."""
        return frozenset(self._dirty)

    def count(
        self, period: Period, start: date, measure: Measure, dimension: Dimension, value: str
    ) -> int:
        """The exact count of one cell before disclosure control (never publish this)."""
        return self._counts.get((period, start, measure, dimension), {}).get(value, [0, 0])[0]

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
        # Per measure, once: every group's increments, its total last.
        updates = [
            (
                measure,
                [
                    (dimension, [*by_dimension.get(dimension, {}).items(), (TOTAL, total)])
                    for dimension in (
                        EVENT_DIMENSIONS if measure is Measure.EVENTS else PERSON_DIMENSIONS
                    )
                ],
            )
            for measure, (by_dimension, total) in tallies(record).items()
            if total[0]  # no people in this event: its persons groups do not change
        ]
        now = _aware(now)
        for period in Period:
            start, end = window_bounds(period, day)
            ended = _midnight(end) <= now
            for measure, groups in updates:
                for dimension, increments in groups:
                    group = (period, start, measure, dimension)
                    cells = self._counts.get(group)
                    if cells is None:
                        cells = self._counts[group] = {}
                    for value, (n, keys) in increments:
                        cell = cells.get(value)
                        if cell is None:
                            cells[value] = [n, keys]
                        else:
                            cell[0] += n
                            cell[1] = (cell[1] + keys) % KEY_SPACE
                    self._dirty.add(group)
                    if ended and group in self._published:
                        self._revised.add(group)  # a late report changed what was shown
        return AddResult.COUNTED

    def _status(self, group: GroupKey, now: datetime) -> str:
        _, end = window_bounds(group[0], group[1])
        if _midnight(end) > _aware(now):
            return "open"
        return "revised" if group in self._revised else "final"

    def _publish(self, groups: Iterable[GroupKey], now: datetime) -> list[StatCell]:
        """Published cells of the given groups after disclosure control, in a stable order."""
        out: list[StatCell] = []
        for group in sorted(groups, key=lambda g: (g[0].value, g[1], g[2].value, g[3].value)):
            cells = self._counts.get(group)
            if cells is None:
                continue  # evicted meanwhile: nothing left to say about it
            period, start, measure, dimension = group
            _, end = window_bounds(period, start)
            status = self._status(group, now)
            self._published.add(group)
            if status == "open":
                self._shown_open.add(group)
            else:
                self._shown_open.discard(group)
            for value in sorted(cells, key=lambda v: (v == TOTAL, v)):
                n, keys = cells[value]
                shown = self.ptable.publish(n, keys)
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
                        count=shown.count,
                        suppressed=shown.suppressed,
                        display=shown.display,
                        status=status,
                        updated_at=now,
                    )
                )
        return out

    def flush(self, now: datetime) -> list[StatCell]:
        """Cells (with `__total__`) of every group changed since the last flush, and of every
        group shown as open whose window has ended since; clears them."""
        ended = {g for g in self._shown_open if self._status(g, now) != "open"}
        groups, self._dirty = self._dirty | ended, set()
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
            self._revised.discard(group)
            self._published.discard(group)
            self._shown_open.discard(group)
        return len(gone)

    def sizes(self) -> dict[str, int]:
        """Entries held: groups, cells, and groups waiting to be published."""
        return {
            "stat_groups": len(self._counts),
            "stat_cells": sum(len(c) for c in self._counts.values()),
            "dirty_groups": len(self._dirty),
        }
