"""Aggregate stage: regional statistics in tumbling windows, counted exactly once.

Windows are the event's UTC day, ISO week and month. Each event adds to `events` cells
(total, participant, border section, event type) and each person it reports to `persons`
cells (also nationality, sex, age band, vulnerability). Groups that changed are marked dirty
and published after disclosure control by `flush`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any, Literal

from consumers.disclosure import TOTAL, protect_group
from schemas.derived import (
    Dimension,
    Measure,
    Period,
    SharedRecord,
    StatCell,
    utc_day,
    window_bounds,
)

AddResult = Literal["counted", "duplicate", "too_late"]
GroupKey = tuple[Period, date, Measure, Dimension]
_GROUP_SIZE_KINDS = frozenset({"apprehension", "irregular_crossing_attempt"})
UNKNOWN = "unknown"


def _persons(data: dict[str, Any]) -> list[dict[str, Any]]:
    persons = [p for p in data.get("persons", []) if isinstance(p, dict)]
    single = data.get("person")
    if isinstance(single, dict):
        persons.append(single)
    return persons


class StatsState:
    """Counts per window and group, the set of counted events, and the dirty groups."""

    def __init__(self, lateness: timedelta = timedelta(days=7), threshold: int = 5) -> None:
        self.lateness = lateness
        self.threshold = threshold
        self.counts: dict[GroupKey, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.counted: dict[str, datetime] = {}
        self.dirty: set[GroupKey] = set()

    def add(self, record: SharedRecord, now: datetime) -> AddResult:
        """Count one record unless it was counted before or its day closed too long ago."""
        if record.event_key in self.counted:
            return "duplicate"
        day = utc_day(record.time)
        if (
            datetime.combine(day + timedelta(days=1), datetime.min.time(), now.tzinfo)
            + (self.lateness)
            < now
        ):
            return "too_late"
        self.counted[record.event_key] = record.time
        events = {
            Dimension.TOTAL: "all",
            Dimension.PARTICIPANT: record.participant.value,
            Dimension.BORDER_SECTION: record.border_section,
            Dimension.EVENT_TYPE: record.kind,
        }
        person_cells: list[tuple[Dimension, str]] = []
        persons = _persons(record.data)
        for person in persons:
            person_cells += [
                (Dimension.TOTAL, "all"),
                (Dimension.PARTICIPANT, record.participant.value),
                (Dimension.BORDER_SECTION, record.border_section),
                (Dimension.NATIONALITY, str(person.get("nationality", UNKNOWN))),
                (Dimension.SEX, str(person.get("sex", UNKNOWN))),
                (Dimension.AGE_BAND, str(person.get("age_band", UNKNOWN))),
            ]
            person_cells += [
                (Dimension.VULNERABILITY, str(v)) for v in person.get("vulnerabilities", [])
            ]
        group_size = record.data.get("group_size")
        if record.kind in _GROUP_SIZE_KINDS and isinstance(group_size, int):
            for _ in range(max(0, group_size - len(persons))):
                person_cells += [
                    (Dimension.TOTAL, "all"),
                    (Dimension.PARTICIPANT, record.participant.value),
                    (Dimension.BORDER_SECTION, record.border_section),
                    (Dimension.NATIONALITY, UNKNOWN),
                    (Dimension.SEX, UNKNOWN),
                    (Dimension.AGE_BAND, UNKNOWN),
                ]
        for period in Period:
            start, _ = window_bounds(period, day)
            for dimension, value in events.items():
                self._bump((period, start, Measure.EVENTS, dimension), value)
            for dimension, value in person_cells:
                self._bump((period, start, Measure.PERSONS, dimension), value)
        return "counted"

    def _bump(self, group: GroupKey, value: str) -> None:
        self.counts[group][value] += 1
        self.dirty.add(group)

    def cells(self, groups: set[GroupKey], now: datetime) -> list[StatCell]:
        """Published cells of the given groups, after disclosure control."""
        out: list[StatCell] = []
        for group in sorted(groups, key=lambda g: (g[0].value, g[1], g[2].value, g[3].value)):
            period, start, measure, dimension = group
            _, end = window_bounds(period, start)
            counts = self.counts.get(group, {})
            published = protect_group(counts, self.threshold)
            if dimension is Dimension.TOTAL:
                published.pop(TOTAL, None)  # the total group is its own total
            for value, (count, why) in sorted(published.items()):
                out.append(
                    StatCell(
                        key=f"{period.value}|{start.isoformat()}|{measure.value}|{dimension.value}|{value}",
                        period=period,
                        window_start=start,
                        window_end=end,
                        measure=measure,
                        dimension=dimension,
                        value=value,
                        count=count,
                        suppressed=count is None,
                        suppression=why,
                        display="<5" if count is None else str(count),
                        updated_at=now,
                    )
                )
        return out

    def flush(self, now: datetime) -> list[StatCell]:
        """Cells of every group that changed since the last flush; clears the dirty set."""
        groups, self.dirty = self.dirty, set()
        return self.cells(groups, now)

    def mark_all_dirty(self) -> None:
        """Publish every group at the next flush (after a rebuild)."""
        self.dirty = set(self.counts)

    def all_cells(self, now: datetime) -> list[StatCell]:
        """Every cell of every group currently held."""
        return self.cells(set(self.counts), now)

    def evict(self, now: datetime) -> None:
        """Drop windows closed for longer than the lateness (already published for good)."""
        for group in [g for g in self.counts if g not in self.dirty]:
            _, end = window_bounds(group[0], group[1])
            if datetime.combine(end, datetime.min.time(), now.tzinfo) + self.lateness < now:
                del self.counts[group]

    def forget_keys_before(self, moment: datetime) -> None:
        """Forget counted event keys older than `moment` (they can no longer be counted)."""
        for key in [k for k, t in self.counted.items() if t < moment]:
            del self.counted[key]
