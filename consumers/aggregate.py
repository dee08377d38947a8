"""Aggregate stage: regional statistics in tumbling windows, counted exactly once.

Pure state, no broker: the faust agent feeds it shared records and publishes what `flush`
and `take_fine` return. Windows are the event's UTC day, ISO week (Monday start) and
calendar month; weeks and months are computed from their days, so they always agree.

Each record adds to the **fine cells** of its day (`schemas.tables`):

* `events`: one per event, at its participant, border section and event type;
* `persons`: one per person listed in the event's data (`persons` list and/or a single
  `person`), also at their nationality, sex, age band ('unknown' when missing) and set of
  vulnerability flags. Apprehensions and irregular crossing attempts also count the members
  of `group_size` that are not listed, as 'unknown' nationality, sex and age band. These are
  person-reports: a person reported in two events counts twice.

`flush` publishes, for every window that changed, the one-dimensional groups of
`wbx.stats.v1` (each a `tabulate` of the fine cells, every cell through the perturbation
table of `schemas.disclosure`); `take_fine` hands the changed fine cells to the gateway,
which builds cross-tables from them the same way. A group's `__total__` counts events or
people (a person with two vulnerability flags is one person in the total and appears in both
flags' rows). Each cell says whether its window is open, final, or revised by a late report.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Literal

from schemas.derived import (
    Dimension,
    Measure,
    Period,
    SharedRecord,
    StatCell,
    utc_day,
    window_bounds,
)
from schemas.disclosure import KEY_SPACE, TOTAL, PerturbationTable, person_key
from schemas.payloads.border_incident import IrregularCrossingAttempt
from schemas.payloads.mixed_movement import Apprehension
from schemas.tables import (
    DIMENSIONS_OF,
    Coordinates,
    Counts,
    FineCell,
    add_into,
    merge,
    tabulate,
)

WindowKey = tuple[Period, date, Measure]
Table = dict[tuple[str, ...], list[int]]
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


def person_count(record: SharedRecord) -> int:
    """The persons an event counts: those listed, or its group size when that is larger."""
    listed = len(record.persons())
    group_size = record.data.get("group_size")
    if record.kind in _GROUP_SIZE_KINDS and type(group_size) is int:
        return max(listed, group_size)
    return listed


def fine_increments(record: SharedRecord) -> list[tuple[Coordinates, int, int]]:
    """What one record adds: (fine cell, records, sum of their keys) for the event and for
    each person; unlisted members of a group share one cell, so a group of 300 costs one."""
    where = (record.participant.value, record.border_section, record.kind)
    out = [(Coordinates(Measure.EVENTS.value, *where), 1, record.record_key)]
    persons = record.persons()
    keys = [person_key(record.record_key, i) for i in range(person_count(record))]
    for index, person in enumerate(persons):
        flags = person.get("vulnerabilities")
        # A flag repeated in one person's list is still one vulnerable person.
        distinct = (
            tuple(sorted({str(f) for f in flags if isinstance(f, str) and f}))
            if isinstance(flags, list)
            else ()
        )
        nationality, sex, age = (_label(person, f) for f in ("nationality", "sex", "age_band"))
        coordinates = Coordinates(Measure.PERSONS.value, *where, nationality, sex, age, distinct)
        out.append((coordinates, 1, keys[index]))
    if len(keys) > len(persons):
        # The group is the headcount; unlisted members are still people who crossed.
        unlisted = Coordinates(Measure.PERSONS.value, *where, UNKNOWN, UNKNOWN, UNKNOWN)
        out.append((unlisted, len(keys) - len(persons), sum(keys[len(persons) :]) % KEY_SPACE))
    return out


def day_tables(counts: Counts) -> dict[Measure, dict[Dimension, Table]]:
    """The one-dimensional groups of one day, per measure, from its fine cells."""
    out: dict[Measure, dict[Dimension, Table]] = {}
    for measure, dimensions in DIMENSIONS_OF.items():
        cells = [(w, c) for w, c in counts.items() if w.measure == measure.value]
        if cells:
            out[measure] = {d: tabulate(cells, [d]) for d in dimensions}
    return out


class StatsState:
    """True counts and key sums of the fine cells of every open day, the one-dimensional
    groups of every day whose windows are still open, and what changed since the last
    flush; every published cell leaves through the perturbation table.

    It does not remember which events it counted: `consumers.state.RegionalState` applies
    each event once. Bounds: fine cells of the days not yet closed for good (a day is kept
    until `lateness` after its end), at most one per distinct combination of participant,
    section, event type, nationality, sex, age band and flags seen on those days; the
    one-dimensional groups of the days whose week or month is not yet closed for good (their
    dimensions' values); the windows of those days, and which of their cells show more than 0.
    """

    def __init__(self, ptable: PerturbationTable, lateness: timedelta = timedelta(days=7)) -> None:
        self.ptable = ptable
        self.lateness = lateness
        self._days: dict[date, Counts] = {}
        self._changed: dict[date, set[Coordinates]] = {}  # fine cells not yet taken
        self._stale: set[date] = set()  # days whose tables the next flush recomputes
        self._tables: dict[date, dict[Measure, dict[Dimension, Table]]] = {}
        self._dirty: set[WindowKey] = set()
        self._revised: set[WindowKey] = set()
        self._published: set[WindowKey] = set()
        # Windows last published while open: published once more when they end, so no
        # cell on the compacted topic says "open" for ever.
        self._shown_open: set[WindowKey] = set()
        # Cells last published as more than 0: only they are published again as 0 (to replace
        # that value on the compacted topic); any other 0 is left out, as an empty cell is.
        self._nonzero: dict[WindowKey, set[tuple[Dimension, str]]] = {}

    @property
    def dirty_windows(self) -> frozenset[WindowKey]:
        """The (period, start, measure) windows `flush` would publish now."""
        return frozenset(self._dirty)

    def _group(self, period: Period, start: date, measure: Measure, dimension: Dimension) -> Table:
        """One group's true counts and key sums: the sum of its days' tables."""
        _, end = window_bounds(period, start)
        days = (start + timedelta(days=i) for i in range((end - start).days))
        return merge(
            self._tables[d][measure][dimension]
            for d in days
            if d in self._tables and measure in self._tables[d]
        )

    def count(
        self, period: Period, start: date, measure: Measure, dimension: Dimension, value: str
    ) -> int:
        """The exact count of one cell before disclosure control (never publish this)."""
        self._refresh()
        return self._group(period, start, measure, dimension).get((value,), [0, 0])[0]

    def _closed_for_good(self, end: date, now: datetime) -> bool:
        """True once a window ending on `end` can no longer take late events."""
        return _midnight(end) + self.lateness < _aware(now)

    def add(self, record: SharedRecord, now: datetime) -> AddResult:
        """Count one record (the caller applies each event once) unless its day closed too
        long ago."""
        day = utc_day(record.time)
        if self._closed_for_good(window_bounds(Period.DAY, day)[1], now):
            return AddResult.TOO_LATE
        counts = self._days.setdefault(day, {})
        changed = self._changed.setdefault(day, set())
        measures = set()
        for where, n, keys in fine_increments(record):
            add_into(counts, where, n, keys)
            changed.add(where)
            measures.add(Measure(where.measure))
        self._stale.add(day)
        now = _aware(now)
        for period in Period:
            start, end = window_bounds(period, day)
            ended = _midnight(end) <= now
            for measure in measures:
                window = (period, start, measure)
                self._dirty.add(window)
                if ended and window in self._published:
                    self._revised.add(window)  # a late report changed what was shown
        return AddResult.COUNTED

    def _refresh(self) -> None:
        """Recompute the tables of the days that changed."""
        for day in self._stale:
            self._tables[day] = day_tables(self._days.get(day, {}))
        self._stale.clear()

    def _status(self, window: WindowKey, now: datetime) -> Literal["open", "final", "revised"]:
        _, end = window_bounds(window[0], window[1])
        if _midnight(end) > _aware(now):
            return "open"
        return "revised" if window in self._revised else "final"

    def _publish(self, windows: Iterable[WindowKey], now: datetime) -> list[StatCell]:
        """Published cells of the given windows after disclosure control, in a stable order."""
        self._refresh()
        out: list[StatCell] = []
        for window in sorted(windows, key=lambda w: (w[0].value, w[1], w[2].value)):
            period, start, measure = window
            _, end = window_bounds(period, start)
            status = self._status(window, now)
            self._published.add(window)
            if status == "open":
                self._shown_open.add(window)
            else:
                self._shown_open.discard(window)
            nonzero = self._nonzero.setdefault(window, set())
            for dimension in DIMENSIONS_OF[measure]:
                group = self._group(period, start, measure, dimension)
                for (value,), (n, keys) in sorted(group.items(), key=_total_last):
                    shown = self.ptable.publish(n, keys)
                    if shown.count:
                        nonzero.add((dimension, value))
                    elif (dimension, value) in nonzero:
                        nonzero.discard((dimension, value))
                    else:
                        continue
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
                            display=shown.display,
                            status=status,
                            updated_at=now,
                        )
                    )
        return out

    def flush(self, now: datetime) -> list[StatCell]:
        """Cells (with `__total__`) of every window changed since the last flush, and of every
        window shown as open that has ended since; clears them."""
        ended = {w for w in self._shown_open if self._status(w, now) != "open"}
        windows, self._dirty = self._dirty | ended, set()
        return self._publish(windows, now)

    def take_fine(self) -> list[FineCell]:
        """The fine cells changed since the last call, as they stand now; clears them."""
        out = [
            FineCell.of(day, where, self._days[day][where])
            for day, changed in sorted(self._changed.items())
            for where in sorted(changed)
        ]
        self._changed.clear()
        return out

    def _windows(self, now: datetime | None = None) -> set[WindowKey]:
        """Every window a held day belongs to (only those still open to late events, when
        `now` is given: a day's tables outlive its own window while its month is open)."""
        return {
            (period, start, measure)
            for day, tables in self._tables.items()
            for period in Period
            for start, end in [window_bounds(period, day)]
            if now is None or not self._closed_for_good(end, now)
            for measure in tables
        }

    def all_cells(self, now: datetime) -> list[StatCell]:
        """Every cell of every window held (to re-publish after a restart rebuild)."""
        self._refresh()
        return self._publish(self._windows(now), now)

    def mark_all_dirty(self) -> None:
        """Publish every window and fine cell held at the next flush (after a rebuild)."""
        self._refresh()
        self._dirty = self._windows()
        self._changed = {day: set(counts) for day, counts in self._days.items()}

    def evict(self, now: datetime) -> int:
        """Drop days and windows closed for longer than the lateness; returns how many
        windows went."""
        self._refresh()
        # What is not yet published waits for the next flush.
        for day in [d for d in self._days if d not in self._changed]:
            if self._closed_for_good(window_bounds(Period.DAY, day)[1], now):
                del self._days[day]  # its tables stay while its week or month is open
        for day in list(self._tables):
            if all(
                self._closed_for_good(window_bounds(p, day)[1], now) for p in Period
            ) and all((p, window_bounds(p, day)[0], m) not in self._dirty
                      for p in Period for m in Measure):  # fmt: skip
                del self._tables[day]
        held = self._windows(now) | self._dirty
        gone = (self._published | self._revised | self._shown_open) - held
        self._published -= gone
        self._revised -= gone
        self._shown_open -= gone
        for window in [w for w in self._nonzero if w not in held]:
            del self._nonzero[window]
        return len(gone)

    def seed_shown(self, cells: Iterable[StatCell], now: datetime) -> None:
        """Remember which cells of open windows the topic holds as more than 0 (after a
        restart), so a cell that is 0 now replaces its old value there."""
        for cell in cells:
            window = (cell.period, cell.window_start, cell.measure)
            if cell.count and not self._closed_for_good(cell.window_end, now):
                self._nonzero.setdefault(window, set()).add((cell.dimension, cell.value))

    def sizes(self) -> dict[str, int]:
        """Entries held: fine cells and their days, day tables' cells, windows to publish."""
        return {
            "stat_days": len(self._days),
            "fine_cells": sum(len(c) for c in self._days.values()),
            "table_cells": sum(
                len(t) for m in self._tables.values() for d in m.values() for t in d.values()
            ),
            "dirty_windows": len(self._dirty),
            "shown_cells": sum(len(c) for c in self._nonzero.values()),
        }


def _total_last(item: tuple[tuple[str, ...], list[int]]) -> tuple[bool, str]:
    return (item[0][0] == TOTAL, item[0][0])
