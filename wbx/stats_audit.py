"""An attacker in the box: what an analyst could learn about small counts from published cells.

Given every published statistics cell (every update, as `wbx.stats.v1` holds them, or a saved
export), it runs the attacks an analyst with the perturbation table but no record key could
run, and counts the cells it pins down to a true value of 1 to 4:

* **interval audit** (linear programming, HiGHS through scipy): each cell's true count is an
  unknown within the range its shown value allows (`PerturbationTable.possible_counts`); the
  unknowns are tied by every relation an analyst knows (a week and a month are the sum of
  their days; a group's values add up to its total, except vulnerability flags, which may
  overlap; every group of a window and measure has the same total). For each cell shown as
  `<5` it minimises and maximises the true count; a cell is pinned when both agree. This
  covers differencing across periods, across dimensions and against margins;
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
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import lil_matrix

from schemas.derived import Dimension, Measure, Period, StatCell, window_bounds
from schemas.disclosure import TOTAL, PerturbationTable, Published

CEILING = 1_000_000
"""An upper bound on any true count, for the ranges of shown values."""
NON_ADDITIVE = {Dimension.VULNERABILITY}
"""Dimensions whose values overlap (a person with two flags), so they need not sum to the total."""


@dataclass
class TableReport:
    """The audit of one table: a measure broken down by one dimension, over every period."""

    measure: Measure
    dimension: Dimension
    cells: int = 0
    small: int = 0
    pinned: list[str] = field(default_factory=list)
    pinned_increments: list[str] = field(default_factory=list)
    expected_abs_noise: float = 0.0
    expected_changed: float = 0.0

    @property
    def name(self) -> str:
        """`persons by nationality`."""
        return f"{self.measure.value} by {self.dimension.value}"


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


def _range(cell: StatCell, ptable: PerturbationTable) -> range:
    return ptable.possible_counts(Published(cell.count, cell.display), CEILING)


def _days(period: Period, start: date) -> list[date]:
    _, end = window_bounds(period, start)
    return [start + timedelta(days=i) for i in range((end - start).days)]


class _Problem:
    """The linear program of one measure: an unknown per latest cell, the known relations."""

    def __init__(self, cells: list[StatCell], ptable: PerturbationTable) -> None:
        self.cells = cells
        self.index = {c.key: i for i, c in enumerate(cells)}
        self.bounds = [(r.start, r.stop - 1) for r in (_range(c, ptable) for c in cells)]
        self.rows: list[dict[int, float]] = []
        by_group: dict[tuple[Period, date, Dimension], list[StatCell]] = defaultdict(list)
        for c in cells:
            by_group[(c.period, c.window_start, c.dimension)].append(c)
        totals: dict[tuple[Period, date], list[int]] = defaultdict(list)
        for (period, start, dimension), group in by_group.items():
            total = next((c for c in group if c.value == TOTAL), None)
            if total is None:
                continue
            totals[(period, start)].append(self.index[total.key])
            if dimension not in NON_ADDITIVE:
                row = {self.index[c.key]: 1.0 for c in group if c.value != TOTAL}
                row[self.index[total.key]] = row.get(self.index[total.key], 0.0) - 1.0
                self.rows.append(row)
        for same in totals.values():  # every group of a window counts the same total
            self.rows += [{same[0]: 1.0, other: -1.0} for other in same[1:]]
        day_cells = {(c.window_start, c.dimension, c.value): c for c in cells
                     if c.period is Period.DAY}  # fmt: skip
        for c in cells:
            if c.period is Period.DAY:
                continue
            # A week or a month is the sum of its days; a day with no cell counted nobody.
            row = {self.index[c.key]: -1.0}
            for day in _days(c.period, c.window_start):
                found = day_cells.get((day, c.dimension, c.value))
                if found is not None:
                    row[self.index[found.key]] = row.get(self.index[found.key], 0.0) + 1.0
            self.rows.append(row)
        matrix = lil_matrix((len(self.rows), len(cells)))
        for r, row in enumerate(self.rows):
            for col, coef in row.items():
                matrix[r, col] = coef
        self.equalities = matrix.tocsr()

    def extremes(self, target: int) -> tuple[float, float] | None:
        """The least and greatest true count of cell `target` (None: no consistent solution)."""
        n = len(self.cells)
        equalities = self.equalities
        zeros = np.zeros(len(self.rows))
        out = []
        for sign in (1.0, -1.0):
            objective = np.zeros(n)
            objective[target] = sign
            result = linprog(objective, A_eq=equalities, b_eq=zeros, bounds=self.bounds,
                             method="highs")  # fmt: skip
            if result.status != 0:
                return None
            out.append(sign * result.fun)
        return out[0], out[1]


def audit(history: Iterable[StatCell], ptable: PerturbationTable) -> AuditReport:
    """Run every attack on the published cells (in publication order, every update)."""
    versions: dict[str, list[StatCell]] = defaultdict(list)
    updates = 0
    for cell in history:
        versions[cell.key].append(cell)
        updates += 1
    latest = [v[-1] for v in versions.values()]
    reports: dict[tuple[Measure, Dimension], TableReport] = {}
    for cell in latest:
        table = reports.setdefault(
            (cell.measure, cell.dimension), TableReport(cell.measure, cell.dimension)
        )
        table.cells += 1
        table.small += cell.count is None
    infeasible: list[str] = []
    for measure in Measure:
        cells = [c for c in latest if c.measure is measure]
        if not cells:
            continue
        problem = _Problem(cells, ptable)
        for i, cell in enumerate(cells):
            if cell.count is not None:
                continue
            found = problem.extremes(i)
            if found is None:
                infeasible.append(cell.key)
                continue
            low, high = found
            # Counts are whole numbers: round inward (with a tolerance for the solver).
            low_n, high_n = int(np.ceil(low - 1e-6)), int(np.floor(high + 1e-6))
            if low_n == high_n and 1 <= low_n <= ptable.small - 1:
                reports[(cell.measure, cell.dimension)].pinned.append(f"{cell.key} = {low_n}")
    for key, seen in versions.items():
        for before, after in itertools.pairwise(seen):
            was, now = _range(before, ptable), _range(after, ptable)
            low = max(0, now.start - (was.stop - 1))
            high = (now.stop - 1) - was.start
            if low == high and 1 <= low <= ptable.small - 1:
                reports[(after.measure, after.dimension)].pinned_increments.append(
                    f"{key}: +{low} between {before.display} and {after.display}"
                )
    for table in reports.values():
        shown = [c for c in latest if (c.measure, c.dimension) == (table.measure, table.dimension)]
        table.expected_abs_noise, table.expected_changed = _utility(shown, ptable)
    ordered = sorted(reports.values(), key=lambda t: (t.measure.value, t.dimension.value))
    return AuditReport(ordered, updates, infeasible)


def _utility(cells: list[StatCell], ptable: PerturbationTable) -> tuple[float, float]:
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


def read_export(path: Path) -> Iterator[StatCell]:
    """Cells from a saved export: `/v1/stats` JSON, JSON Lines of cells, or `/v1/stats.csv`."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".csv":
        for row in csv.DictReader(io.StringIO(text)):
            yield _cell(row)
        return
    stripped = text.lstrip()
    if stripped.startswith("{") and '"cells"' in stripped[:200]:
        for item in json.loads(text)["cells"]:
            yield StatCell.model_validate(item)
        return
    for line in text.splitlines():
        if line.strip():
            yield StatCell.model_validate_json(line)


def _cell(row: dict[str, Any]) -> StatCell:
    """A cell from a row of `/v1/stats.csv`."""
    period, start = Period(row["period"]), date.fromisoformat(row["window_start"])
    count = int(row["count"]) if row["count"] else None
    return StatCell(
        key=f"{period.value}|{start.isoformat()}|{row['measure']}|{row['dimension']}|"
        f"{row['value']}",
        period=period,
        window_start=start,
        window_end=date.fromisoformat(row["window_end"]),
        measure=Measure(row["measure"]),
        dimension=Dimension(row["dimension"]),
        value=row["value"],
        count=count,
        suppressed=count is None,
        display=row["display"],
        updated_at=datetime.now(UTC),
    )
