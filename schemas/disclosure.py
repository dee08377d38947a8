"""Statistical disclosure control of every published count: the cell key method.

Every record (an event, or a person listed in one) carries a fixed 32-bit **record key**,
drawn in the Protect stage from a keyed HMAC of the event (`consumers.pseudonyms`), so a
redelivery or a replay has the same key. A cell's **cell key** is the sum of its records'
keys modulo 2^32, read as a fraction of 1. The **perturbation table** (`infra/ptable.toml`)
maps (true count, cell key) to the published value:

* 0 stays 0 (an empty cell reveals nobody);
* 1 to 4 are never published: such a cell is published as 0 or as 5, at random by its cell
  key and unbiased (a count of 3 shows 5 three times in five), so neither a 0 nor a 5 says
  whether anybody is behind it, and a table leaves its 0 cells out, as it does empty ones;
* 5 and more are published with a small noise, at most ±2, unbiased, and never below 5.

There is no `<5` label: a label only cells of 1-4 wear tells an analyst they are not empty,
and a margin of at most 4 over four such cells would then pin each of them to exactly 1.
The same records always give the same published value, whichever table, period or query
produced the cell, so repeating a query or polling an update learns nothing new, and
subtracting overlapping cells (days from their week, values from their total) gives a sum of
independent noises, not people. `docs/statistics.md` explains the method and what an analyst
may conclude.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from schemas.config_files import read_toml
from schemas.errors import ConfigurationError, join_items, validation_items

TOTAL = "__total__"
KEY_SPACE = 2**32
"""Record and cell keys are integers in [0, 2^32): a cell key k stands for k / 2^32."""


def person_key(record_key: int, index: int) -> int:
    """The record key of the `index`-th person of an event: fixed, independent of the rest.

    A bijective integer mix (the MurmurHash3 finaliser) of the event's key and the index, so
    the persons of one event do not share a key (their sum would not be uniform). The event's
    key is already secret (an HMAC), so the mix needs to spread bits, not to be one-way; and
    it is cheap, which matters for a group of 300.
    """
    h = (record_key + 0x9E3779B9 * (index + 1)) % KEY_SPACE
    h ^= h >> 16
    h = (h * 0x85EBCA6B) % KEY_SPACE
    h ^= h >> 13
    h = (h * 0xC2B2AE35) % KEY_SPACE
    return h ^ (h >> 16)


class Outcome(BaseModel):
    """One possible published value for a true count, with its probability."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    noise: int
    probability: float = Field(gt=0, le=1)


class Row(BaseModel):
    """The noise distribution of one true count (the last row serves every larger count)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    count: int = Field(ge=1)
    outcomes: list[Outcome] = Field(min_length=1)

    @model_validator(mode="after")
    def _a_distribution(self) -> Row:
        total = sum(o.probability for o in self.outcomes)
        if abs(total - 1) > 1e-9:
            raise ValueError(f"probabilities of count {self.count} add up to {total}, not 1")
        return self


class PTableFile(BaseModel):
    """`infra/ptable.toml`: the parameters and rows of the perturbation table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    small: int = Field(ge=1, description="no published value is 1..small-1")
    max_noise: int = Field(ge=0, description="the largest move of a count of small or more")
    rows: list[Row] = Field(min_length=1)

    @model_validator(mode="after")
    def _the_rules_hold(self) -> PTableFile:
        counts = [row.count for row in self.rows]
        if counts != list(range(1, len(counts) + 1)) or len(counts) < self.small:
            raise ValueError(f"rows must be counts 1, 2, ... in order, at least to {self.small}")
        for row in self.rows:
            for outcome in row.outcomes:
                shown = row.count + outcome.noise
                if shown < 0:
                    raise ValueError(f"count {row.count}: noise {outcome.noise} would publish "
                                     f"{shown}, below 0")  # fmt: skip
                if 0 < shown < self.small:
                    raise ValueError(
                        f"count {row.count}: noise {outcome.noise} would publish {shown}, "
                        f"a value of 1-{self.small - 1}"
                    )
                if row.count >= self.small and abs(outcome.noise) > self.max_noise:
                    raise ValueError(f"count {row.count}: noise {outcome.noise} > max_noise")
                if row.count >= self.small and shown < self.small:
                    raise ValueError(
                        f"count {row.count}: noise {outcome.noise} would publish a value "
                        f"below {self.small}"
                    )
                if row.count < self.small and shown > self.small + self.max_noise:
                    raise ValueError(
                        f"count {row.count}: noise {outcome.noise} would publish {shown}, "
                        f"more than {self.small + self.max_noise}"
                    )
            mean = sum(o.noise * o.probability for o in row.outcomes)
            if abs(mean) > 1e-9:
                raise ValueError(f"count {row.count}: the noise is biased (mean {mean})")
        return self


@dataclass(frozen=True)
class Published:
    """A cell as published: its protected count and what a table shows (the same digits)."""

    count: int
    display: str


class PerturbationTable:
    """Looks up the published value of (true count, cell key)."""

    def __init__(self, spec: PTableFile) -> None:
        self.spec = spec
        self.small = spec.small
        self.max_noise = spec.max_noise
        # Per row: the upper bound of each outcome's slice of the cell key space.
        self._rows = [
            (
                [round(sum(o.probability for o in row.outcomes[: i + 1]) * KEY_SPACE)
                 for i in range(len(row.outcomes))],
                [o.noise for o in row.outcomes],
            )
            for row in spec.rows
        ]  # fmt: skip
        # Which true counts each published value can come from, over the explicit rows.
        self._sources: dict[int, set[int]] = {}
        for row in spec.rows:
            for outcome in row.outcomes:
                self._sources.setdefault(row.count + outcome.noise, set()).add(row.count)
        last = spec.rows[-1]
        self._tail = (last.count, [o.noise for o in last.outcomes])

    def noise(self, count: int, cell_key: int) -> int:
        """The noise added to a true count of at least 1 for a cell key."""
        bounds, noises = self._rows[min(count, len(self._rows)) - 1]
        return noises[min(bisect_right(bounds, cell_key % KEY_SPACE), len(noises) - 1)]

    def publish(self, count: int, cell_key: int) -> Published:
        """What a table shows for a cell with `count` records whose keys sum to `cell_key`."""
        if count < 0:
            raise ValueError(f"a count cannot be negative: {count}")
        value = count + self.noise(count, cell_key) if count else 0
        return Published(value, str(value))

    def possible_counts(self, shown: Published, ceiling: int) -> range:
        """The true counts (up to `ceiling`) that can publish `shown`: what an analyst, who
        knows this table but no record key, can conclude from one cell (as an interval)."""
        sources = set(self._sources.get(shown.count, set()))
        if shown.count == 0:
            sources.add(0)
        last, noises = self._tail
        # Every count beyond the last row uses its outcomes.
        sources |= {shown.count - n for n in noises if shown.count - n > last}
        sources = {c for c in sources if c <= ceiling}
        return range(min(sources), max(sources) + 1) if sources else range(0)


PROTECTION = (
    "Every figure is protected by the cell key method (docs/statistics.md): a count of "
    "{small} or more is shifted by a fixed noise of at most {max_noise} drawn from the records "
    "behind it; a count from 1 to {below} is published as 0 or as {small}, unbiased; zero "
    "stays zero, and a table leaves out its cells of 0. The same cell shows the same value in "
    "every table and every update; a total is a protected cell of its own, so it may differ "
    "from the sum of the cells it totals."
)
"""The statement every table and export carries (English; the pages translate it)."""


def protection_statement(ptable: PerturbationTable) -> str:
    """`PROTECTION` with the table's parameters filled in."""
    return PROTECTION.format(small=ptable.small, max_noise=ptable.max_noise, below=ptable.small - 1)


def load_ptable(path: Path) -> PerturbationTable:
    """Read and check a perturbation table; errors name the file and the row."""
    raw = read_toml(path, "perturbation table", ConfigurationError)
    try:
        return PerturbationTable(PTableFile.model_validate(raw))
    except ValidationError as exc:
        raise ConfigurationError(
            f"{path}: {join_items(validation_items(exc.errors()), root='<file>')}"
        ) from None
