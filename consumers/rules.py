"""Alert rules as a table: each kind is a config model and an evaluator, registered in `KINDS`.

Adding a kind touches this module (a config model, an evaluator, one line in `KINDS`) and
`infra/alert_rules.toml`. Evaluators are deterministic: they use event time, never the wall
clock, so replaying the same records reproduces the same triggers. Stateful kinds (surge,
secondary movement) keep their own bounded state and forget it in `evict`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.config_files import load_toml_model
from schemas.derived import AlertEvent, SharedRecord
from schemas.errors import ConfigurationError
from schemas.payloads.border_incident import DeathOrMissingPerson, MigrantSmuggling
from schemas.payloads.mixed_movement import Apprehension
from schemas.vocab import ImpactLevel, Vulnerability

PSEUDONYM_FIELDS = ("document_number", "biometric_ref")
"""Person fields that hold keyed pseudonyms in the shared view (they link across agencies)."""


@dataclass(frozen=True, slots=True)
class Trigger:
    """A rule matched: why (its cause names the alert), and earlier events that belong to it."""

    cause: str
    bucket_start: datetime
    related: tuple[AlertEvent, ...] = ()


def bucket(moment: datetime, hours: float) -> datetime:
    """The start of the `hours`-long merge bucket that holds `moment`."""
    size = hours * 3600
    return datetime.fromtimestamp((moment.timestamp() // size) * size, tz=moment.tzinfo)


def pseudonyms(record: SharedRecord) -> list[str]:
    """The keyed pseudonyms of everyone a record names (facilitators included), sorted."""
    people = record.persons(facilitators=True)
    return sorted({p[f] for p in people for f in PSEUDONYM_FIELDS if isinstance(p.get(f), str)})


class Evaluator(Protocol):
    """What the router needs of every rule kind."""

    def evaluate(self, record: SharedRecord, event: AlertEvent) -> Trigger | None:
        """A trigger when `record` matches the rule."""

    def evict(self, now: datetime) -> None:
        """Forget state that can no longer matter at event time `now`."""

    def size(self) -> int:
        """Entries held (for the documented bounds)."""


class _Rule(BaseModel):
    """What every rule has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str
    severity: ImpactLevel
    enabled: bool = True
    merge_window_hours: float = Field(default=24, gt=0)

    def bucket(self, moment: datetime) -> datetime:
        """The merge bucket of an event at `moment`."""
        return bucket(moment, self.merge_window_hours)


class _Stateless:
    """An evaluator that keeps nothing between records."""

    def evict(self, now: datetime) -> None:
        """Nothing to forget."""

    def size(self) -> int:
        """Nothing held."""
        return 0


# --- protection: a vulnerable person near a covered section ----------------------------------


class ProtectionRule(_Rule):
    """A person flagged with one of `vulnerabilities`, or any event of `always_for` kinds."""

    kind: Literal["protection"]
    vulnerabilities: list[Vulnerability] = Field(default_factory=list)
    always_for: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _needs_flags(self) -> ProtectionRule:
        if not (self.vulnerabilities or self.always_for):
            raise ValueError("a protection rule needs vulnerabilities or always_for")
        return self


class Protection(_Stateless):
    """Evaluates a ProtectionRule."""

    def __init__(self, rule: ProtectionRule) -> None:
        self.rule = rule
        self.flagged = {v.value for v in rule.vulnerabilities}

    def evaluate(self, record: SharedRecord, event: AlertEvent) -> Trigger | None:
        """One alert per vulnerable person (by pseudonym) and section, per merge window."""
        hits = [
            p
            for p in record.persons(facilitators=True)
            if self.flagged & set(p.get("vulnerabilities") or [])
        ]
        if record.kind not in self.rule.always_for and not hits:
            return None
        ids = sorted({p[f] for p in hits for f in PSEUDONYM_FIELDS if isinstance(p.get(f), str)})
        who = ids[0] if ids else record.event_key
        return Trigger(f"{record.border_section}|{who}", self.rule.bucket(record.time))


# --- death or missing person -----------------------------------------------------------------


class DeathRule(_Rule):
    """Every death or missing person; follow-ups naming the incident merge into its alert."""

    kind: Literal["death"]


class Death(_Stateless):
    """Evaluates a DeathRule."""

    def __init__(self, rule: DeathRule) -> None:
        self.rule = rule

    def evaluate(self, record: SharedRecord, event: AlertEvent) -> Trigger | None:
        """A follow-up names the incident by its first event id (wbxincident): same cause."""
        if record.kind != DeathOrMissingPerson.kind:
            return None
        cause = record.incident or record.provenance.event_id
        return Trigger(cause, self.rule.bucket(record.time))


# --- smuggling with a vehicle heading across a border ----------------------------------------


class SmugglingVehicleRule(_Rule):
    """Migrant smuggling with a vehicle that is not heading into the reporting participant."""

    kind: Literal["smuggling_vehicle"]


class SmugglingVehicle(_Stateless):
    """Evaluates a SmugglingVehicleRule."""

    def __init__(self, rule: SmugglingVehicleRule) -> None:
        self.rule = rule

    def evaluate(self, record: SharedRecord, event: AlertEvent) -> Trigger | None:
        """One alert per vehicle (pseudonymised plate) and section, per merge window."""
        if record.kind != MigrantSmuggling.kind:
            return None
        plate, heading = record.data.get("vehicle_plate"), record.data.get("heading_to")
        if not plate or heading == record.participant.value:
            return None
        return Trigger(f"{record.border_section}|{plate}", self.rule.bucket(record.time))


# --- large group -----------------------------------------------------------------------------


class LargeGroupRule(_Rule):
    """A group of at least `min_group_size` in an event of `event_kinds`."""

    kind: Literal["large_group"]
    min_group_size: int = Field(default=30, ge=1)
    event_kinds: list[str] = Field(default_factory=lambda: [Apprehension.kind])


class LargeGroup(_Stateless):
    """Evaluates a LargeGroupRule."""

    def __init__(self, rule: LargeGroupRule) -> None:
        self.rule = rule

    def evaluate(self, record: SharedRecord, event: AlertEvent) -> Trigger | None:
        """One alert per such event."""
        size = record.data.get("group_size")
        if record.kind not in self.rule.event_kinds or type(size) is not int:
            return None
        if size < self.rule.min_group_size:
            return None
        return Trigger(record.event_key, self.rule.bucket(record.time))


# --- surge -----------------------------------------------------------------------------------


class SurgeRule(_Rule):
    """Persons in `event_kinds` on a section in the last `window_hours` above `multiplier`
    times its trailing rate over `baseline_days` (and at least `min_count`)."""

    kind: Literal["surge"]
    event_kinds: list[str] = Field(default_factory=lambda: [Apprehension.kind])
    window_hours: float = Field(default=6, gt=0)
    baseline_days: float = Field(default=7, gt=0)
    multiplier: float = Field(default=3.0, gt=0)
    min_count: int = Field(default=10, ge=1)


class SurgeCounts:
    """Persons on one section: the last `window`, and the baseline before it.

    Records mostly arrive in time order, so two deques with running sums give O(1)
    amortised updates; a late record falls back to counting the deques exactly. Bound: the
    entries of the last `window + baseline` of event time.
    """

    def __init__(self, window: timedelta, baseline: timedelta) -> None:
        self.window = window
        self.baseline_span = baseline
        self.recent: deque[tuple[datetime, int]] = deque()
        self.older: deque[tuple[datetime, int]] = deque()
        self.recent_sum = 0
        self.older_sum = 0
        self.latest: datetime | None = None

    def __len__(self) -> int:
        return len(self.recent) + len(self.older)

    def add(self, moment: datetime, persons: int) -> tuple[int, int]:
        """Record one event; the (recent, baseline) sums as of `moment`."""
        if self.latest is not None and moment < self.latest:
            self.recent.append((moment, persons))
            self.recent_sum += persons
            items = [*self.older, *self.recent]
            split, start = moment - self.window, moment - self.window - self.baseline_span
            recent = sum(n for t, n in items if split < t <= moment)
            return recent, sum(n for t, n in items if start < t <= split)
        self.latest = moment
        self.recent.append((moment, persons))
        self.recent_sum += persons
        split = moment - self.window
        while self.recent and self.recent[0][0] <= split:
            item = self.recent.popleft()
            self.recent_sum -= item[1]
            self.older.append(item)
            self.older_sum += item[1]
        start = split - self.baseline_span
        while self.older and self.older[0][0] <= start:
            self.older_sum -= self.older.popleft()[1]
        return self.recent_sum, self.older_sum


class Surge:
    """Evaluates a SurgeRule; keeps one SurgeCounts per section (sections: reference data)."""

    def __init__(self, rule: SurgeRule) -> None:
        self.rule = rule
        self.window = timedelta(hours=rule.window_hours)
        self.baseline = timedelta(days=rule.baseline_days)
        self.sections: dict[str, SurgeCounts] = {}

    def evaluate(self, record: SharedRecord, event: AlertEvent) -> Trigger | None:
        """One alert per section and merge window while the surge lasts."""
        if record.kind not in self.rule.event_kinds:
            return None
        counts = self.sections.setdefault(
            record.border_section, SurgeCounts(self.window, self.baseline)
        )
        size = record.data.get("group_size")
        recent, baseline = counts.add(record.time, max(1, size if type(size) is int else 1))
        rate = baseline / (self.baseline / self.window)
        if recent >= self.rule.min_count and recent > self.rule.multiplier * rate:
            return Trigger(record.border_section, self.rule.bucket(record.time))
        return None

    def evict(self, now: datetime) -> None:
        """Counts trim themselves as their section's events arrive."""

    def size(self) -> int:
        """Entries over all sections."""
        return sum(len(c) for c in self.sections.values())


# --- secondary movement ----------------------------------------------------------------------


class SecondaryMovementRule(_Rule):
    """The same pseudonymised person reported in two participants within `window_hours`."""

    kind: Literal["secondary_movement"]
    window_hours: float = Field(default=72, gt=0)


class SecondaryMovement:
    """Evaluates a SecondaryMovementRule; remembers sightings for `window_hours`."""

    def __init__(self, rule: SecondaryMovementRule) -> None:
        self.rule = rule
        self.window = timedelta(hours=rule.window_hours)
        # Each sighting keeps its event as JSON: a third of the memory of the model, and
        # only the earliest sighting of a trigger is ever read back.
        self.sightings: dict[str, list[tuple[datetime, str, bytes]]] = {}
        self._order: deque[tuple[datetime, str]] = deque()

    def evaluate(self, record: SharedRecord, event: AlertEvent) -> Trigger | None:
        """One alert per person and merge window (from the first sighting)."""
        participant = record.participant.value
        trigger = None
        stored: bytes | None = None
        for pseudonym in pseudonyms(record):
            seen = self.sightings.setdefault(pseudonym, [])
            earlier = [
                s for s in seen if s[1] != participant and abs(record.time - s[0]) <= self.window
            ]
            if earlier and trigger is None:
                first = min(earlier, key=lambda s: s[0])
                related = AlertEvent.model_validate_json(first[2])
                trigger = Trigger(pseudonym, self.rule.bucket(first[0]), (related,))
            stored = stored or event.model_dump_json().encode()
            seen.append((record.time, participant, stored))
            self._order.append((record.time, pseudonym))
        return trigger

    def evict(self, now: datetime) -> None:
        """Forget sightings older than the window, amortised O(1) per sighting."""
        cutoff = now - self.window
        while self._order and self._order[0][0] < cutoff:
            _, pseudonym = self._order.popleft()
            kept = [s for s in self.sightings.get(pseudonym, []) if s[0] >= cutoff]
            if kept:
                self.sightings[pseudonym] = kept
            else:
                self.sightings.pop(pseudonym, None)

    def size(self) -> int:
        """Sightings held (the order log holds as many)."""
        return sum(map(len, self.sightings.values())) + len(self._order)


RuleConfig = Annotated[
    ProtectionRule
    | DeathRule
    | SmugglingVehicleRule
    | LargeGroupRule
    | SurgeRule
    | SecondaryMovementRule,
    Field(discriminator="kind"),
]
"""Any rule of `infra/alert_rules.toml`, by its `kind`."""

KINDS: dict[type[_Rule], Any] = {
    ProtectionRule: Protection,
    DeathRule: Death,
    SmugglingVehicleRule: SmugglingVehicle,
    LargeGroupRule: LargeGroup,
    SurgeRule: Surge,
    SecondaryMovementRule: SecondaryMovement,
}
"""The table: each rule kind's config model and its evaluator."""


def evaluator_for(rule: _Rule) -> Evaluator:
    """The evaluator of one configured rule."""
    evaluator: Evaluator = KINDS[type(rule)](rule)
    return evaluator


def longest_window(rules: list[RuleConfig]) -> timedelta:
    """The longest span any rule looks back or merges over (bounds the router's state)."""
    spans = [timedelta(hours=r.merge_window_hours) for r in rules]
    spans += [timedelta(hours=r.window_hours) for r in rules if hasattr(r, "window_hours")]
    return max(spans, default=timedelta(0))


class _RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[RuleConfig]


def load_rules(path: Path) -> list[RuleConfig]:
    """Enabled rules of a rules file; errors name the file and the rule."""
    parsed = load_toml_model(path, _RulesFile, "alert rules file")
    ids = [r.id for r in parsed.rules]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigurationError(f"{path}: rule id(s) declared twice: {', '.join(dupes)}")
    return [r for r in parsed.rules if r.enabled]


__all__ = [
    "KINDS",
    "PSEUDONYM_FIELDS",
    "Evaluator",
    "RuleConfig",
    "Trigger",
    "bucket",
    "evaluator_for",
    "load_rules",
    "longest_window",
    "pseudonyms",
]
