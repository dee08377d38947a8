"""An attacker in the box: what an analyst could learn about small counts from published cells.

Given every published statistics cell (every update, as `wbx.stats.v1` holds them, or a saved
export), it runs the attacks an analyst with the perturbation table but no record key could
run, and counts the cells it pins down to a true value of 1 to 4:

* **interval audit** (linear programming, HiGHS through scipy): each set of records a
  published cell counts is an unknown within the range its shown value allows
  (`PerturbationTable.possible_counts`); cells of different tables that count the same
  records (a margin here, a cell there; the same cell reached through filters) are one
  unknown; cells a table leaves out (published as 0) count 0 to 4; the unknowns are tied by
  every relation an analyst knows (a table's margins are the sums of the cells they total,
  except over vulnerability flags, which overlap; a week and a month are the sum of their
  days). For each unknown that may be 1-4 it minimises and maximises the true count; it is
  pinned when both agree on one value of 1-4. This covers differencing across periods,
  across dimensions and against margins, in any table and between tables;
* **successive updates**: two consecutive values of one cell bound how many records arrived
  between them; an increment pinned to 1-4 tells an analyst how many people just came.

It also reports the utility lost to the protection, as the table's expected absolute noise
and share of changed cells over the published cells (the true counts are not at hand).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import lil_matrix

from schemas.derived import Dimension, Measure, Period, StatCell, window_bounds
from schemas.disclosure import TOTAL, PerturbationTable, Published
from schemas.tables import TableCell

CEILING = 1_000_000
"""An upper bound on any true count, for the ranges of shown values."""
NON_ADDITIVE = {Dimension.VULNERABILITY}
"""Dimensions whose values overlap (a person with two flags), so they need not sum to the total."""
UNKNOWN_FILTERS = frozenset({(Dimension.TOTAL, frozenset({"<not in the export>"}))})
"""The filters of a CSV export, which does not name them: its cells meet no other table's."""

Constraints = frozenset[tuple[Dimension, frozenset[str]]]
Shape = tuple[Measure, tuple[Dimension, ...], Constraints]
"""A table whatever its period: measure, dimensions crossed, filters."""


@dataclass(frozen=True)
class Seen:
    """One published cell version as an analyst reads it: from a table (a measure crossed by
    `by`, over the records that pass `filters`), for one window."""

    key: str
    period: Period
    start: date
    measure: Measure
    by: tuple[Dimension, ...]
    filters: Constraints
    values: tuple[str, ...]
    count: int
    display: str

    @property
    def table(self) -> str:
        """`persons by nationality x sex`, the table the report counts it in."""
        dims = " x ".join(d.value for d in self.by) or "total"
        where = "" if not self.filters or self.filters == UNKNOWN_FILTERS else " (filtered)"
        return f"{self.measure.value} by {dims}{where}"

    @property
    def records(self) -> tuple[Period, date, Measure, Constraints]:
        """Which records the cell counts: two cells with the same are the same unknown."""
        wanted = dict(self.filters)
        for dimension, value in zip(self.by, self.values, strict=True):
            if value != TOTAL and dimension is not Dimension.TOTAL:
                wanted[dimension] = frozenset({value})
        return self.period, self.start, self.measure, frozenset(wanted.items())

    @property
    def shape(self) -> Shape:
        """The table it belongs to, whatever the period."""
        return self.measure, self.by, self.filters

    @classmethod
    def of_stat(cls, cell: StatCell) -> Seen:
        """A cell of `wbx.stats.v1`: one group of a one-dimensional table."""
        by = () if cell.dimension is Dimension.TOTAL else (cell.dimension,)
        return cls(cell.key, cell.period, cell.window_start, cell.measure, by, frozenset(),
                   (cell.value,) if by else (), cell.count, cell.display)  # fmt: skip

    @classmethod
    def of_table(cls, cell: TableCell, by: tuple[Dimension, ...], filters: Constraints) -> Seen:
        """A cell of a `/v1/stats` table."""
        values = tuple(cell.values[d] for d in by)
        named = ",".join(f"{d.value}={'+'.join(sorted(v))}" for d, v in sorted(filters))
        where = (f"{d.value}={v}" for d, v in zip(by, values, strict=True))
        window = (cell.period.value, cell.window_start.isoformat(), cell.measure.value)
        key = "|".join((*window, named, *where))
        return cls(key, cell.period, cell.window_start, cell.measure, by, filters, values,
                   cell.count, cell.display)  # fmt: skip


@dataclass
class TableReport:
    """The audit of one table, over every period."""

    name: str
    cells: int = 0
    small: int = 0  # cells whose shown value allows a true count of 1 to small-1
    pinned: list[str] = field(default_factory=list)
    pinned_increments: list[str] = field(default_factory=list)
    expected_abs_noise: float = 0.0
    expected_changed: float = 0.0


@dataclass
class AuditReport:
    """Every table's findings; `leaks` is what must be 0."""

    tables: list[TableReport]
    updates: int
    infeasible: list[str] = field(default_factory=list)

    @property
    def leaks(self) -> int:
        """Cells and increments pinned to a value of 1-4."""
        return sum(len(t.pinned) + len(t.pinned_increments) for t in self.tables)


def _range(cell: Seen, ptable: PerturbationTable) -> range:
    return ptable.possible_counts(Published(cell.count, cell.display), CEILING)


def _days(period: Period, start: date) -> list[date]:
    _, end = window_bounds(period, start)
    return [start + timedelta(days=i) for i in range((end - start).days)]


Records = tuple[Period, date, Measure, Constraints]


class _Problem:
    """The linear program of one measure: an unknown per set of records some cell counts,
    bounded by what the published cells show, and the relations an analyst knows:

    * in a table, a margin is the sum of the cells it totals, except over vulnerability
      flags, which overlap; a cell the table leaves out was published as 0, so it counts 0
      to `small - 1` (as many such cells as the dimension has values seen nowhere in it);
    * a week or a month is the sum of its days, in a table of the same shape published per
      day (a day left out counts 0 to `small - 1` too).
    """

    def __init__(self, cells: list[Seen], ptable: PerturbationTable) -> None:
        self.small = ptable.small
        self.unknowns: dict[Records, int] = {}
        self.names: list[str] = []
        self.bounds: list[tuple[int, int]] = []
        self.rows: list[dict[int, float]] = []
        self.absent: list[tuple[int, int]] = []  # (unknown, how many cells left out it holds)
        for c in cells:
            shown = _range(c, ptable)
            self._unknown(c.records, (shown.start, shown.stop - 1), c.key)
        vocabulary: dict[Dimension, set[str]] = defaultdict(set)
        by_window: dict[tuple[Shape, Period, date], dict[tuple[str, ...], Seen]] = defaultdict(dict)
        for c in cells:
            by_window[(c.shape, c.period, c.start)][c.values] = c
            for dimension, value in zip(c.by, c.values, strict=True):
                if value != TOTAL:
                    vocabulary[dimension].add(value)
        for (shape, period, start), table in by_window.items():
            self._margins(shape, period, start, table, vocabulary)
        days = {(shape, start) for shape, period, start in by_window if period is Period.DAY}
        for (shape, period, start), table in by_window.items():
            window_days = _days(period, start)
            if period is Period.DAY or not any((shape, d) in days for d in window_days):
                continue
            for values, whole in table.items():
                found = [by_window.get((shape, Period.DAY, d), {}).get(values) for d in window_days]
                parts = [self.unknowns[p.records] for p in found if p is not None]
                gone = [d for d, p in zip(window_days, found, strict=True) if p is None]
                name = f"day {gone[0]} of {whole.key} (left out)" if gone else ""
                self._sum(self.unknowns[whole.records], parts, len(gone), name)
        self._split()

    def _split(self) -> None:
        """Independent parts (no relation between them) are solved apart: smaller programs,
        and a window's cells need not wait for every other window's."""
        parent = list(range(len(self.bounds)))

        def root(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for row in self.rows:
            first, *rest = row
            for other in rest:
                parent[root(other)] = root(first)
        members: dict[int, list[int]] = defaultdict(list)
        for i in range(len(self.bounds)):
            members[root(i)].append(i)
        rows_of: dict[int, list[dict[int, float]]] = defaultdict(list)
        for row in self.rows:
            rows_of[root(next(iter(row)))].append(row)
        self.part: dict[int, tuple[list[int], dict[int, int], Any]] = {}
        for top, cols in members.items():
            local = {c: k for k, c in enumerate(cols)}
            rows = rows_of.get(top, [])
            matrix = lil_matrix((len(rows), len(cols)))
            for r, row in enumerate(rows):
                for col, coef in row.items():
                    matrix[r, local[col]] = coef
            part = (cols, local, matrix.tocsr() if rows else None)
            for c in cols:
                self.part[c] = part

    def _unknown(self, records: Records, bounds: tuple[int, int], name: str) -> int:
        """The unknown of a set of records, its bounds narrowed to `bounds` too."""
        i = self.unknowns.get(records)
        if i is None:
            i = self.unknowns[records] = len(self.bounds)
            self.bounds.append(bounds)
            self.names.append(name)
        else:  # the same records shown twice: both ranges hold
            low, high = self.bounds[i]
            self.bounds[i] = (max(low, bounds[0]), min(high, bounds[1]))
        return i

    def _margins(
        self,
        shape: Shape,
        period: Period,
        start: date,
        table: dict[tuple[str, ...], Seen],
        vocabulary: dict[Dimension, set[str]],
    ) -> None:
        """Every margin of a table window is the sum of the cells it totals."""
        measure, by, filters = shape
        for axis, dimension in enumerate(by):
            if dimension in NON_ADDITIVE or dimension is Dimension.TOTAL:
                continue
            groups: dict[tuple[str, ...], list[Seen]] = defaultdict(list)
            for values, cell in table.items():
                if values[axis] != TOTAL:
                    groups[(*values[:axis], TOTAL, *values[axis + 1 :])].append(cell)
            for margin_values, parts in groups.items():
                margin = table.get(margin_values)
                if margin is None:  # left out: published as 0
                    probe = Seen("", period, start, measure, by, filters, margin_values, 0, "0")
                    name = f"{probe.table} {start} {'|'.join(margin_values)} (left out)"
                    whole = self._unknown(probe.records, (0, self.small - 1), name)
                else:
                    whole = self.unknowns[margin.records]
                missing = sorted(vocabulary[dimension] - {p.values[axis] for p in parts})
                name = ""
                if missing:
                    where = (missing[0] if k == axis else v for k, v in enumerate(margin_values))
                    name = f"left out of {parts[0].table} {start} {'|'.join(where)}"
                self._sum(whole, [self.unknowns[p.records] for p in parts], len(missing), name)

    def _sum(self, whole: int, parts: list[int], absent: int, name: str = "") -> None:
        """whole = the parts + what `absent` cells left out (each 0 to small - 1) hold.

        Those cells share one unknown; when there is one, it is that cell's own (`name`),
        and the audit tries to pin it like any other."""
        row: dict[int, float] = {whole: -1.0}
        for part in parts:
            row[part] = row.get(part, 0.0) + 1.0
        if absent:
            slack = len(self.bounds)
            self.bounds.append((0, absent * (self.small - 1)))
            self.names.append(name)
            self.absent.append((slack, absent))
            row[slack] = 1.0
        if any(row.values()):
            self.rows.append(row)

    def _solve(self, target: int, sign: float) -> float | None:
        cols, local, equalities = self.part[target]
        objective = np.zeros(len(cols))
        objective[local[target]] = sign
        result = linprog(objective, A_eq=equalities,
                         b_eq=None if equalities is None else np.zeros(equalities.shape[0]),
                         bounds=[self.bounds[c] for c in cols], method="highs")  # fmt: skip
        return None if result.status != 0 else sign * float(result.fun)

    def pinned(self, target: int, cells: int = 1) -> int | bool | None:
        """The one value of 1..small-1 an unknown (the sum of `cells` cells left out, each
        0 to small-1) forces on a cell, False when there is none, None when no value fits
        every relation."""
        low = self._solve(target, 1.0)
        if low is None:
            return None
        # Counts are whole numbers: round inward (with a tolerance for the solver).
        low_n = int(np.ceil(low - 1e-6))
        if cells == 1 and not 1 <= low_n <= self.small - 1:
            return False
        if cells > 1 and low_n < cells * (self.small - 1):  # only a full sum pins each
            return False
        high = self._solve(target, -1.0)
        if high is None:
            return None
        if int(np.floor(high + 1e-6)) != low_n:
            return False
        return low_n if cells == 1 else self.small - 1


def audit(history: Iterable[StatCell | Seen], ptable: PerturbationTable) -> AuditReport:
    """Run every attack on the published cells (in publication order, every update)."""
    versions: dict[str, list[Seen]] = defaultdict(list)
    updates = 0
    for item in history:
        cell = Seen.of_stat(item) if isinstance(item, StatCell) else item
        versions[cell.key].append(cell)
        updates += 1
    latest = [v[-1] for v in versions.values()]
    reports: dict[str, TableReport] = {}
    for cell in latest:
        table = reports.setdefault(cell.table, TableReport(cell.table))
        table.cells += 1
        table.small += _range(cell, ptable).start < ptable.small
    infeasible: list[str] = []
    for measure in Measure:
        cells = [c for c in latest if c.measure is measure]
        if not cells:
            continue
        problem = _Problem(cells, ptable)
        tables = {problem.unknowns[c.records]: c.table for c in cells}
        candidates = [(i, 1) for i in problem.unknowns.values()] + problem.absent
        for i, held in candidates:
            low, high = problem.bounds[i]
            if high < 1 or (held == 1 and low >= ptable.small):
                continue  # nothing of 1..small-1 to pin
            found = problem.pinned(i, held)
            if found is None:
                infeasible.append(problem.names[i])
            elif found is not False:
                table_name = tables.get(i) or _table_of(problem.names[i])
                reports.setdefault(table_name, TableReport(table_name)).pinned.append(
                    f"{problem.names[i]} = {found}"
                )
    for key, seen in versions.items():
        for before, after in itertools.pairwise(seen):
            was, now = _range(before, ptable), _range(after, ptable)
            low = max(0, now.start - (was.stop - 1))
            high = (now.stop - 1) - was.start
            if low == high and 1 <= low <= ptable.small - 1:
                reports[after.table].pinned_increments.append(
                    f"{key}: +{low} between {before.display} and {after.display}"
                )
    for table in reports.values():
        shown = [c for c in latest if c.table == table.name]
        table.expected_abs_noise, table.expected_changed = _utility(shown, ptable)
    return AuditReport(sorted(reports.values(), key=lambda t: t.name), updates, infeasible)


def _table_of(name: str) -> str:
    """The table an unknown's name mentions (`... persons by sex 2026-11-23 ...`)."""
    found = re.search(r"(events|persons) by [a-z_ x]+?(?= \d{4}-| \(|$)", name)
    return found.group(0) if found else name


def _utility(cells: list[Seen], ptable: PerturbationTable) -> tuple[float, float]:
    """Expected |noise| and share of changed values over cells shown as numbers of 5+."""
    rows = ptable.spec.rows
    noisy = [c.count for c in cells if c.count is not None and c.count >= ptable.small]
    if not noisy:
        return 0.0, 0.0
    absolute = changed = 0.0
    for count in noisy:
        row = rows[min(count - ptable.small, len(rows) - 1)]
        absolute += sum(abs(o.noise) * o.probability for o in row.outcomes)
        changed += sum(o.probability for o in row.outcomes if o.noise)
    return absolute / len(noisy), changed / len(noisy)


def read_export(path: Path) -> Iterator[Seen]:
    """Cells from a saved export: `/v1/stats` JSON, `/v1/stats.csv` or the dashboard's CSV
    (one table each), or JSON Lines of `wbx.stats.v1` cells."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".csv":
        # The table ends at the blank line before the statement of how it was protected.
        yield from _csv_table(text.split("\n\n", 1)[0], path)
        return
    try:
        body = json.loads(text)
    except ValueError:
        body = None  # JSON Lines: one topic cell a line
    if isinstance(body, dict) and "cells" in body:
        by = tuple(Dimension(d) for d in body.get("group_by", []))
        filters = frozenset(
            (Dimension(d), frozenset(v)) for d, v in body.get("filters", {}).items()
        )
        for item in body["cells"]:
            yield Seen.of_table(TableCell.model_validate(item), by, filters)
        return
    for line in text.splitlines():
        if line.strip():
            yield Seen.of_stat(StatCell.model_validate_json(line))


FIXED_COLUMNS = ("period", "window_start", "window_end", "measure", "count", "display", "status")


def _csv_table(text: str, path: Path) -> Iterator[Seen]:
    """The cells of one CSV table: its dimensions are the columns not named above (and not
    a dashboard's `_label` column)."""
    reader = csv.DictReader(io.StringIO(text))
    columns = reader.fieldnames or []
    missing = [c for c in ("period", "window_start", "measure", "count") if c not in columns]
    if missing:
        raise ValueError(f"{path}: not a WBX statistics CSV (no column {', '.join(missing)})")
    by = tuple(Dimension(c) for c in columns
               if c not in FIXED_COLUMNS and not c.endswith("_label"))  # fmt: skip
    for line, row in enumerate(reader, start=2):
        if not (row["count"] or "").isdigit():
            raise ValueError(f"{path}, line {line}: count {row['count']!r} is not a whole number")
        try:
            count = int(row["count"])
            cell = TableCell(
                period=Period(row["period"]),
                window_start=date.fromisoformat(row["window_start"]),
                window_end=date.fromisoformat(row["window_end"]),
                measure=Measure(row["measure"]),
                values={d: row[d.value] for d in by},
                count=count,
                display=str(count),
                status=row.get("status") or "final",
            )
        except (ValueError, KeyError) as exc:
            raise ValueError(f"{path}, line {line}: {exc}") from None
        yield Seen.of_table(cell, by, UNKNOWN_FILTERS)
