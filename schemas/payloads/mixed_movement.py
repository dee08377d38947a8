"""Mixed-movement payloads: persons on the move, protection-sensitive."""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import ConfigDict, Field, model_validator

from schemas.json_types import JsonInt
from schemas.nationality import Nationality
from schemas.payloads.common import Notes, OptionalLocation, Payload, Person
from schemas.personal import DataCategory, DataKind, personal
from schemas.vocab import Direction, EventFamily, ReferralTarget, ReturnKind


def _require_a_vulnerability(schema: dict[str, Any]) -> None:
    """State in the exported schema what `_has_vulnerability` checks."""
    schema["properties"]["person"] = {
        "allOf": [
            schema["properties"]["person"],
            {"required": ["vulnerabilities"], "properties": {"vulnerabilities": {"minItems": 1}}},
        ]
    }


class _MixedMovement(Payload):
    family: ClassVar[EventFamily] = EventFamily.MIXED_MOVEMENT


class Apprehension(_MixedMovement):
    """Irregular entry, exit or stay detected."""

    kind: ClassVar[str] = "apprehension"

    direction: Direction
    group_size: JsonInt = Field(ge=1, le=10_000)
    location: OptionalLocation = None
    persons: list[Person] = Field(default_factory=list, max_length=10_000)
    notes: Notes = None

    @model_validator(mode="after")
    def _persons_fit_group(self) -> Self:
        if len(self.persons) > self.group_size:
            raise ValueError(
                f"persons lists {len(self.persons)} people but group_size is {self.group_size}"
            )
        return self


class AsylumIntention(_MixedMovement):
    """A person expressed the intention to seek asylum."""

    kind: ClassVar[str] = "asylum_intention"

    persons: list[Person] = Field(min_length=1, max_length=1_000)
    location: OptionalLocation = None
    notes: Notes = None


class AsylumApplication(_MixedMovement):
    """An asylum application was lodged."""

    kind: ClassVar[str] = "asylum_application"

    persons: list[Person] = Field(min_length=1, max_length=1_000)
    case_reference: str | None = personal(
        DataCategory.DIRECT_IDENTIFIER, DataKind.CASE_REFERENCE, max_length=64
    )
    notes: Notes = None


class VulnerabilityIdentified(_MixedMovement):
    """A vulnerable person was identified (UAM, victim of trafficking, ...)."""

    kind: ClassVar[str] = "vulnerability_identified"

    model_config = ConfigDict(json_schema_extra=_require_a_vulnerability)

    person: Person
    location: OptionalLocation = None
    notes: Notes = None

    @model_validator(mode="after")
    def _has_vulnerability(self) -> Self:
        if not self.person.vulnerabilities:
            raise ValueError("person.vulnerabilities must name at least one vulnerability")
        return self


class Referral(_MixedMovement):
    """A person was referred to a procedure or service."""

    kind: ClassVar[str] = "referral"

    person: Person
    target: ReferralTarget
    notes: Notes = None


class ReceptionStatus(_MixedMovement):
    """Capacity and occupancy of a reception centre."""

    kind: ClassVar[str] = "reception_status"

    centre_id: str = Field(min_length=1, max_length=64, examples=["RS-KRNJACA"])
    capacity: JsonInt = Field(ge=0)
    occupancy: JsonInt = Field(ge=0)
    unaccompanied_minors: JsonInt = Field(default=0, ge=0)


class Return(_MixedMovement):
    """An assisted voluntary return, a forced return or a readmission."""

    kind: ClassVar[str] = "return"

    return_kind: ReturnKind
    destination: Nationality = Field(description="ISO 3166-1 alpha-3 of the country of return")
    readmission_agreement: str | None = Field(default=None, max_length=200)
    persons: list[Person] = Field(min_length=1, max_length=1_000)
    notes: Notes = None


MIXED_MOVEMENT: tuple[type[Payload], ...] = (
    Apprehension,
    AsylumIntention,
    AsylumApplication,
    VulnerabilityIdentified,
    Referral,
    ReceptionStatus,
    Return,
)
