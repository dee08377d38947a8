"""Protect stage: the data-protection filter, driven by the personal-data marks in the schemas.

Nothing here lists sensitive fields: the payload model is walked and every field's mark
(schemas/personal.py) is looked up in the policy file for the recipient view. Each derived
record carries the source event's handling, purpose and retention deadline and its
provenance; every release of personal data is described in an audit record.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import to_jsonable_python

from consumers.pseudonyms import Pseudonymiser
from schemas.derived import AuditRecord, Provenance, SharedRecord, derived_id
from schemas.envelope import Envelope
from schemas.errors import ConfigurationError
from schemas.payloads import Location
from schemas.personal import DataCategory, DataKind, PersonalData, mark_of
from schemas.vocab import AgeBand, Participant


class Action(StrEnum):
    """What the policy does with one personal-data field."""

    DROP = "drop"
    KEEP = "keep"
    PSEUDONYMISE = "pseudonymise"
    GENERALISE = "generalise"


class View(BaseModel):
    """One recipient view of the policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    purposes: list[str]
    grid_degrees: float = Field(default=0.1, gt=0, le=10)
    location_to: Literal["grid", "section"] = "grid"
    kinds: dict[DataKind, Action] = Field(default_factory=dict)


class Policy(BaseModel):
    """The whole policy file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    defaults: dict[DataCategory, Action]
    views: dict[str, View]

    def action(self, view: str, mark: PersonalData) -> Action:
        """The action for a marked field in a view (kind first, then the category default)."""
        return self.views[view].kinds.get(mark.kind) or self.defaults.get(
            mark.category, Action.DROP
        )


def load_policy(path: Path) -> Policy:
    """Load and validate a policy file; errors name the file and the entry."""
    try:
        return Policy.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ConfigurationError(f"{path}: policy file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigurationError(f"{path}: {problems}") from None


@dataclass(frozen=True, slots=True)
class Protected:
    """The outputs of protecting one event."""

    shared: SharedRecord
    audit: AuditRecord | None


def age_band(birth: date, on: date) -> AgeBand:
    """The age band of a person born on `birth`, at the date `on`."""
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


# Kinds whose values are already coarse, so "generalise" keeps them as they are.
_COARSE = frozenset({DataKind.AGE_BAND, DataKind.NATIONALITY, DataKind.SEX, DataKind.VULNERABILITY})


class _Walker:
    """One pass over a payload model, collecting the protected dict and the released paths."""

    def __init__(self, view: View, view_name: str, policy: Policy, psn: Pseudonymiser, on: date):
        self.view = view
        self.view_name = view_name
        self.policy = policy
        self.psn = psn
        self.on = on
        self.released: dict[str, str] = {}

    def model(self, model: BaseModel, path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, field in type(model).model_fields.items():
            value = getattr(model, name)
            if value is None:
                continue
            here = f"{path}.{name}" if path else name
            mark = mark_of(field)
            if mark is None:
                out[name] = self.plain(value, here)
            else:
                self.marked(out, name, value, here, mark)
        if "age_band" in out or "birth_date" in type(model).model_fields:
            band = out.get("age_band")
            if band is not None:
                out["child"] = AgeBand(band).is_child
        return out

    def plain(self, value: Any, path: str) -> Any:
        if isinstance(value, BaseModel):
            return self.model(value, path)
        if isinstance(value, list):
            return [self.plain(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return to_jsonable_python(value)

    def marked(
        self, out: dict[str, Any], name: str, value: Any, path: str, mark: PersonalData
    ) -> None:
        action = self.policy.action(self.view_name, mark)
        if action is Action.DROP:
            return
        if action is Action.KEEP or (action is Action.GENERALISE and mark.kind in _COARSE):
            out[name] = self.plain(value, path)
        elif action is Action.PSEUDONYMISE:
            if isinstance(value, list):
                out[name] = [self.psn.pseudonym(mark.kind, str(v)) for v in value]
            else:
                out[name] = self.psn.pseudonym(mark.kind, str(value))
        elif mark.kind is DataKind.BIRTH_DATE and isinstance(value, date):
            out.setdefault("age_band", age_band(value, self.on).value)
        elif mark.kind is DataKind.LOCATION and isinstance(value, Location):
            if self.view.location_to == "section":
                return
            grid = self.view.grid_degrees
            out[name] = {
                "lat": round(round(value.lat / grid) * grid, 6),
                "lon": round(round(value.lon / grid) * grid, 6),
                "grid_deg": grid,
            }
        else:
            return  # no safe generalisation known for this kind: drop it
        self.released[path] = action.value


def protect(
    envelope: Envelope,
    digest: str,
    policy: Policy,
    pseudonymiser: Pseudonymiser,
    *,
    view: str = "pcc_operator",
    now: datetime,
) -> Protected | None:
    """The protected view of one verified event, or None when its retention deadline passed.

    A purpose the view does not serve is refused with ConfigurationError rather than
    silently released: purpose limitation is the sender's condition of use.
    """
    if envelope.wbxretainuntil <= now:
        return None
    settings = policy.views.get(view)
    if settings is None:
        raise ConfigurationError(f"policy has no view {view!r}")
    if envelope.wbxpurpose.value not in settings.purposes:
        raise ConfigurationError(f"view {view!r} does not serve purpose {envelope.wbxpurpose}")
    payload = envelope.payload
    walker = _Walker(settings, view, policy, pseudonymiser, envelope.time.date())
    data = walker.model(payload, "")
    shared = SharedRecord(
        record_id=derived_id(envelope.source, envelope.id, view),
        view=view,
        type=envelope.type,
        kind=payload.kind,
        family=payload.family,
        time=envelope.time,
        agency=envelope.agency,
        participant=Participant(envelope.agency[:2]),
        border_section=envelope.subject,
        handling=envelope.wbxhandling,
        purpose=envelope.wbxpurpose,
        retain_until=envelope.wbxretainuntil,
        reliability=envelope.wbxreliability,
        accuracy=envelope.wbxaccuracy,
        impact=envelope.wbximpact,
        incident=envelope.wbxincident,
        closed=envelope.wbxclosed,
        pseudonym_key_id=pseudonymiser.key_id,
        data=data,
        provenance=Provenance(event_id=envelope.id, source=envelope.source, digest=digest),
    )
    audit = None
    if walker.released:
        audit = AuditRecord(
            audit_id=derived_id("audit", envelope.source, envelope.id, view),
            at=now,
            recipient=f"view:{view}",
            purpose=envelope.wbxpurpose,
            handling=envelope.wbxhandling,
            event_id=envelope.id,
            source=envelope.source,
            type=envelope.type,
            fields=walker.released,
        )
    return Protected(shared, audit)
