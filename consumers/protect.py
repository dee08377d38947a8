"""Protect stage: the data-protection filter, driven by the personal-data marks in the schemas.

Nothing here lists sensitive fields: the payload model is walked and every field's mark
(schemas/personal.py) is looked up in the policy file for the recipient view, so a new marked
field is protected by its kind or category default without a change here. Each derived record
carries the source event's handling, purpose and retention deadline and its provenance; every
release of personal data is described in an audit record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from consumers.pseudonyms import Pseudonymiser
from schemas.audit import AuditFact
from schemas.config_files import load_toml_model
from schemas.derived import Provenance, SharedRecord, derived_id, utc_day
from schemas.envelope import Envelope
from schemas.errors import ConfigurationError
from schemas.payloads import Location
from schemas.personal import DataCategory, DataKind, PersonalData, mark_of
from schemas.shredding import Shredder
from schemas.vocab import AgeBand, Participant, Purpose

logger = logging.getLogger(__name__)

SHARED_VIEW = "pcc_operator"
"""The view written to wbx.shared.v1; a policy file without it cannot run the pipeline."""
CHILD_KEY = "child"


class Action(StrEnum):
    """What the policy does with one personal-data field."""

    DROP = "drop"
    KEEP = "keep"
    PSEUDONYMISE = "pseudonymise"
    GENERALISE = "generalise"


# Used for a category the file's [defaults] leaves out; fail-safe for identifiers and free text.
BUILTIN_DEFAULTS: dict[DataCategory, Action] = {
    DataCategory.DIRECT_IDENTIFIER: Action.DROP,
    DataCategory.FREE_TEXT: Action.DROP,
    DataCategory.QUASI_IDENTIFIER: Action.GENERALISE,
    DataCategory.SPECIAL_CATEGORY: Action.KEEP,
}
# Values of these kinds are coarse already, so "generalise" passes them through unchanged.
SEALED_CATEGORIES = frozenset({DataCategory.DIRECT_IDENTIFIER, DataCategory.FREE_TEXT})
"""Released values sealed under the deadline's key (`schemas.shredding`): they identify a
person, and no statistic counts them; quasi-identifiers and special categories stay
readable, so the anonymous counts hold after the key is gone."""

_COARSE = frozenset({DataKind.AGE_BAND, DataKind.NATIONALITY, DataKind.SEX, DataKind.VULNERABILITY})


class View(BaseModel):
    """One recipient view: the purposes it serves and an action per personal-data kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    purposes: frozenset[Purpose] = Field(min_length=1)
    grid_degrees: float = Field(default=0.1, gt=0, le=10)
    location_to: Literal["grid", "section"] = "grid"
    kinds: dict[DataKind, Action] = Field(default_factory=dict)


class Policy(BaseModel):
    """The whole policy file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    defaults: dict[DataCategory, Action] = Field(default_factory=lambda: dict(BUILTIN_DEFAULTS))
    views: dict[str, View]

    @model_validator(mode="after")
    def _has_shared_view(self) -> Self:
        if SHARED_VIEW not in self.views:
            raise ValueError(f"views: no [views.{SHARED_VIEW}] (the view of wbx.shared.v1)")
        return self

    def action(self, view: str, mark: PersonalData) -> Action:
        """The action for a marked field in a view: its kind first, then its category."""
        chosen = self.views[view].kinds.get(mark.kind)
        if chosen is not None:
            return chosen
        return self.defaults.get(mark.category, BUILTIN_DEFAULTS[mark.category])


def load_policy(path: Path) -> Policy:
    """Load and validate a policy file; errors name the file and the entry."""
    return load_toml_model(path, Policy, "policy file")


@dataclass(frozen=True, slots=True)
class Protected:
    """The outputs of protecting one event."""

    shared: SharedRecord
    audit: AuditFact | None


def age_band(birth: date, on: date) -> AgeBand:
    """The age band of a person born on `birth`, at the date `on` (birthdays count that day)."""
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    if age < 14:
        return AgeBand.CHILD
    if age < 18:
        return AgeBand.ADOLESCENT
    if age < 35:
        return AgeBand.YOUNG_ADULT
    if age < 65:
        return AgeBand.ADULT
    return AgeBand.SENIOR


@dataclass
class _Walk:
    """One pass over a payload: transforms its JSON dump in place, collecting released paths."""

    policy: Policy
    view: str
    psn: Pseudonymiser
    on: date
    withhold: bool  # purpose not served: no personal data at all leaves for this view
    released: dict[str, str] = field(default_factory=dict)
    pseudonyms: list[str] = field(default_factory=list)
    seal: Callable[[Any], str] | None = None  # crypto-shredding of identifying values

    def model(self, model: BaseModel, out: dict[str, Any], path: str) -> None:
        """Apply the policy to the fields of one model (its dump is `out`)."""
        fields = type(model).model_fields
        marks = {n: m for n, f in fields.items() if (m := mark_of(f)) is not None}
        band_field = next((n for n, m in marks.items() if m.kind is DataKind.AGE_BAND), None)
        given = getattr(model, band_field) if band_field else None
        band = given if isinstance(given, AgeBand) else None
        age_released = False
        # Only fields present in the dump (exclude_none); fields added below are not revisited.
        for name in [n for n in fields if n in out]:
            here = f"{path}.{name}" if path else name
            mark = marks.get(name)
            value = getattr(model, name)
            if mark is None:
                self.descend(value, out[name], here)
                continue
            action = Action.DROP if self.withhold else self.policy.action(self.view, mark)
            if mark.kind is DataKind.BIRTH_DATE and action is Action.GENERALISE:
                del out[name]
                if isinstance(value, date):
                    # An explicit band wins over one derived from the birth date.
                    band = band or age_band(value, self.on)
                    self.add_band(out, band_field or DataKind.AGE_BAND.value, marks, band)
                    self.released[here] = action.value
                    age_released = True
                continue
            released = self.apply(out, name, value, here, mark, action)
            age_released |= released and mark.kind in (DataKind.AGE_BAND, DataKind.BIRTH_DATE)
        # The child flag is coarser than the band, so it goes wherever any age information goes.
        if age_released and band is not None:
            out[CHILD_KEY] = band.is_child

    def add_band(
        self, out: dict[str, Any], key: str, marks: dict[str, PersonalData], band: AgeBand
    ) -> None:
        """Put the band derived from a birth date in place, unless the view drops age bands."""
        mark = marks.get(key, PersonalData(DataCategory.QUASI_IDENTIFIER, DataKind.AGE_BAND))
        # A view that drops age bands must not get them through the birth date instead.
        if self.policy.action(self.view, mark) is not Action.DROP:
            out.setdefault(key, band.value)

    def apply(
        self, out: dict[str, Any], name: str, value: Any, path: str, mark: PersonalData, act: Action
    ) -> bool:
        """Apply one action to one marked field; True when something was released."""
        dumped = out[name]
        if act is Action.KEEP or (act is Action.GENERALISE and mark.kind in _COARSE):
            self.descend(value, dumped, path)  # nested marks still apply inside a kept value
        elif act is Action.PSEUDONYMISE and isinstance(dumped, str | int | float):
            out[name] = self.psn.pseudonym(mark.kind, str(dumped))
            self.pseudonyms.append(out[name])
        elif act is Action.PSEUDONYMISE and isinstance(dumped, list):
            out[name] = [self.psn.pseudonym(mark.kind, str(v)) for v in dumped]
            self.pseudonyms.extend(out[name])
        elif act is Action.GENERALISE and isinstance(value, Location):
            if self.policy.views[self.view].location_to == "section":
                del out[name]  # the record's border_section stands for the place
                return False
            grid = self.policy.views[self.view].grid_degrees
            out[name] = {
                "lat": _snap(value.lat, grid),
                "lon": _snap(value.lon, grid),
                "grid_deg": grid,
            }
        else:
            # DROP, or no safe transformation known for this value: fail closed.
            if act is not Action.DROP:
                logger.debug("no %s for %s (%s): dropped", act.value, path, mark.kind.value)
            del out[name]
            return False
        if dumped == []:
            return False  # an empty list releases nothing
        if self.seal is not None and mark.category in SEALED_CATEGORIES:
            out[name] = self.seal(out[name])
        self.released[path] = act.value
        return True

    def descend(self, value: Any, dumped: Any, path: str) -> None:
        """Walk into nested models and lists, where marked fields may sit."""
        if isinstance(value, BaseModel) and isinstance(dumped, dict):
            self.model(value, dumped, path)
        elif isinstance(value, list | tuple) and isinstance(dumped, list):
            for i, (item, item_out) in enumerate(zip(value, dumped, strict=True)):
                self.descend(item, item_out, f"{path}[{i}]")


def _snap(degrees: float, grid: float) -> float:
    """The grid point nearest to a coordinate: the centre of its coarse cell."""
    # 6 decimals drop float noise (0.30000000000000004); + 0.0 turns -0.0 into 0.0.
    return round(round(degrees / grid) * grid, 6) + 0.0


def protect(
    envelope: Envelope,
    digest: str,
    policy: Policy,
    pseudonymiser: Pseudonymiser,
    *,
    view: str = SHARED_VIEW,
    now: datetime,
    shredder: Shredder | None = None,
) -> Protected | None:
    """The protected view of one verified event, or None when its retention deadline passed.

    With a `shredder`, every released direct identifier and free text is sealed under the
    key of the event's deadline day (`SEALED_CATEGORIES`)."""
    # Past the sender's deletion date nothing may be delivered any more.
    if envelope.wbxretainuntil <= now:
        return None
    if view not in policy.views:
        raise ConfigurationError(f"policy has no view {view!r}")
    # A view that does not serve the envelope's purpose still gets the record (its non-personal
    # facts keep counts and alerts whole) but no personal data: the sender allowed that only
    # for its purpose (PCC SEE Convention art. 31(4)). Raising would stop the stream on one
    # record; returning None would lose the event silently.
    withhold = envelope.wbxpurpose not in policy.views[view].purposes
    if withhold:
        logger.info(
            "event %s: purpose %s not served by view %s, personal data withheld",
            envelope.id,
            envelope.wbxpurpose.value,
            view,
        )
    payload = envelope.payload
    data = payload.model_dump(mode="json", exclude_none=True)
    # Age bands are taken at the event's (UTC) date, not today's, so reprocessing repeats them.
    walk = _Walk(policy, view, pseudonymiser, utc_day(envelope.time), withhold)
    if shredder is not None:
        deadline, today = envelope.wbxretainuntil, utc_day(now)
        walk.seal = lambda value: shredder.seal_value(value, deadline, today)
    walk.model(payload, data, "")
    shared = SharedRecord(
        record_id=derived_id(envelope.source, envelope.id, view),
        view=view,
        type=envelope.type,
        kind=payload.kind,
        family=payload.family,
        time=envelope.time,
        agency=envelope.agency,
        participant=Participant(envelope.agency[:2]),
        border_section=payload.border_section,
        handling=envelope.wbxhandling,
        purpose=envelope.wbxpurpose,
        retain_until=envelope.wbxretainuntil,
        reliability=envelope.wbxreliability,
        accuracy=envelope.wbxaccuracy,
        impact=envelope.wbximpact,
        incident=envelope.wbxincident,
        closed=envelope.wbxclosed,
        pseudonym_key_id=pseudonymiser.key_id,
        record_key=pseudonymiser.record_key(envelope.source, envelope.id),
        data=data,
        provenance=Provenance(event_id=envelope.id, source=envelope.source, digest=digest),
    )
    audit = None
    if walk.released:
        audit = AuditFact(
            audit_id=derived_id("audit", envelope.source, envelope.id, view),
            at=now,
            actor="worker",
            recipient=f"view:{view}",
            purpose=envelope.wbxpurpose,
            handling=envelope.wbxhandling,
            event_id=envelope.id,
            source=envelope.source,
            type=envelope.type,
            fields=walk.released,
            # Sorted and once each: the DPO finds a person by any of them.
            pseudonyms=sorted(set(walk.pseudonyms)),
        )
    return Protected(shared, audit)


def open_shared(record: SharedRecord, shredder: Shredder, now: datetime) -> SharedRecord:
    """`record` with its sealed values opened for hop 2's rules; those past their deadline
    day (key destroyed) are left out, as the statistics never needed them."""
    return record.model_copy(update={"data": shredder.open_tree(record.data, utc_day(now))})
