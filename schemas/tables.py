"""Statistics tables from the finest-grain counts: one way to add up cells, for every table.

The Aggregate stage keeps, per UTC day, the true count and record-key sum of every
**fine cell** (one combination of participant, border section, event type and, for persons,
nationality, sex, age band and vulnerability flags). Every published table, whether the
one-dimensional groups of `wbx.stats.v1` or a cross-table the gateway builds for a query, is
a sum of fine cells (`tabulate`), and every one of its cells then leaves through the
perturbation table (`schemas.disclosure`). Because counts and key sums add up, the same
records give a cell the same value whichever query, period or table produced it; a week or a
month is the sum of its days.

A person with two vulnerability flags is one fine cell counted in both flags' rows; the
margin (`__total__`) of the vulnerability dimension counts each person once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from itertools import product
from typing import Literal, NamedTuple, TypeVar

from pydantic import Field

from schemas.derived import Dimension, Measure, Period
from schemas.disclosure import KEY_SPACE, TOTAL
from schemas.payloads.common import WireModel

ALL = "all"
"""The one value of the `total` dimension."""
EVENT_DIMENSIONS = (Dimension.TOTAL, Dimension.PARTICIPANT, Dimension.BORDER_SECTION,
                    Dimension.EVENT_TYPE)  # fmt: skip
PERSON_DIMENSIONS = (*EVENT_DIMENSIONS, Dimension.NATIONALITY, Dimension.SEX,
                     Dimension.AGE_BAND, Dimension.VULNERABILITY)  # fmt: skip
DIMENSIONS_OF = {Measure.EVENTS: EVENT_DIMENSIONS, Measure.PERSONS: PERSON_DIMENSIONS}
"""What each measure can be broken down by: an event has no one nationality."""
MAX_DIMENSIONS = 3
"""A table crosses at most this many dimensions (beyond, cells are mostly `<5` or 0)."""


class Coordinates(NamedTuple):
    """Where a fine cell sits: its measure and its value in every dimension ("" where the
    measure has none: events have no nationality)."""

    measure: str
    participant: str
    border_section: str
    event_type: str
    nationality: str = ""
    sex: str = ""
    age_band: str = ""
    vulnerabilities: tuple[str, ...] = ()

    def values(self, dimension: Dimension) -> tuple[str, ...]:
        """The values of `dimension` this cell counts in: one, several flags, or none."""
        if dimension is Dimension.TOTAL:
            return (ALL,)
        if dimension is Dimension.VULNERABILITY:
            return self.vulnerabilities
        value: str = getattr(self, dimension.value)
        return (value,) if value else ()

    def key(self, day: date) -> str:
        """The compaction key of this cell on `day` (`wbx.stats.fine.v1`)."""
        return "|".join((day.isoformat(), *self[:7], "+".join(self.vulnerabilities)))


Counts = dict[Coordinates, list[int]]
"""Fine cells of one day: [true count, sum of record keys mod 2^32] per coordinates."""


class FineCell(WireModel):
    """One fine cell of one day, unprotected (`wbx.stats.fine.v1`, compacted, read only by
    the gateway, which publishes nothing of it but protected tables)."""

    key: str = Field(description="compaction key: day|measure|participant|...|flags")
    day: date
    measure: Measure
    participant: str
    border_section: str
    event_type: str
    nationality: str = ""
    sex: str = ""
    age_band: str = ""
    vulnerabilities: list[str] = Field(default_factory=list)
    records: int = Field(ge=0, description="the true count")
    key_sum: int = Field(ge=0, lt=KEY_SPACE, description="sum of the records' keys mod 2^32")

    @property
    def coordinates(self) -> Coordinates:
        """Where the cell sits."""
        fields = self.model_dump(include=set(Coordinates._fields))
        return Coordinates(**{**fields, "measure": self.measure.value,
                              "vulnerabilities": tuple(self.vulnerabilities)})  # fmt: skip

    @classmethod
    def of(cls, day: date, where: Coordinates, counts: Sequence[int]) -> FineCell:
        """The wire form of a fine cell."""
        return cls.model_validate(
            {
                **where._asdict(),
                "key": where.key(day),
                "day": day,
                "records": counts[0],
                "key_sum": counts[1],
            }
        )


K = TypeVar("K", bound=tuple[str | tuple[str, ...], ...])


def add_into(counts: dict[K, list[int]], where: K, n: int, keys: int) -> None:
    """Add `n` records whose keys sum to `keys` into the cell `where` of `counts`."""
    cell = counts.get(where)
    if cell is None:
        counts[where] = [n, keys % KEY_SPACE]
    else:
        cell[0] += n
        cell[1] = (cell[1] + keys) % KEY_SPACE


def matches(where: Coordinates, filters: Mapping[Dimension, frozenset[str]]) -> bool:
    """True when the cell counts in one of the wanted values of every filtered dimension."""
    return all(not wanted.isdisjoint(where.values(d)) for d, wanted in filters.items())


def tabulate(
    cells: Iterable[tuple[Coordinates, Sequence[int]]], by: Sequence[Dimension]
) -> dict[tuple[str, ...], list[int]]:
    """Count and key sum of every cell of the table crossing `by`, with its margins.

    A cell is a tuple of one value per dimension of `by`, `__total__` in the dimensions it
    is a margin of; `()` is the grand total when `by` is empty. Only cells with records
    appear (every other cell is 0).
    """
    out: dict[tuple[str, ...], list[int]] = {}
    for where, (n, keys) in cells:
        axes = [(*where.values(d), TOTAL) for d in by]
        for combination in product(*axes):
            add_into(out, combination, n, keys)
    return out


def merge(tables: Iterable[Mapping[tuple[str, ...], Sequence[int]]]) -> dict[tuple[str, ...],
                                                                           list[int]]:  # fmt: skip
    """The table of a longer window: the sum, cell by cell, of its days' tables."""
    out: dict[tuple[str, ...], list[int]] = {}
    for table in tables:
        for where, (n, keys) in table.items():
            add_into(out, where, n, keys)
    return out


class TableCell(WireModel):
    """One cell of a statistics table after disclosure control (`/v1/stats`).

    `values` names the cell's value in each dimension of the table, `__total__` where the
    cell is a margin. Its count went through the perturbation table like every published
    count: the same records give the same value in every table. A table leaves out the cells
    it would publish as 0 (a true 0, or a true 1-4 published as 0).
    """

    period: Period
    window_start: date
    window_end: date = Field(description="exclusive")
    measure: Measure
    values: dict[Dimension, str] = Field(description="dimension -> value or __total__")
    count: int = Field(ge=0, description="the protected count: at least 5 (a 0 is left out)")
    display: str
    status: Literal["open", "final", "revised"] = Field(
        description="open: its window has not ended; final: ended; revised: changed by a "
        "late report after it ended"
    )
