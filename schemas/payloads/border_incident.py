"""Border-incident payloads: operational, law-enforcement events."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from schemas.json_types import JsonBool, JsonInt
from schemas.payloads.common import Notes, OptionalLocation, Payload, Person
from schemas.personal import DataCategory, DataKind, personal
from schemas.vocab import (
    CasualtyStatus,
    ConcernType,
    Country,
    Direction,
    DocumentType,
    EventFamily,
    FraudType,
    InjuryCause,
    TraffickingIndicator,
)


class _BorderIncident(Payload):
    family: ClassVar[EventFamily] = EventFamily.BORDER_INCIDENT


class IrregularCrossingAttempt(_BorderIncident):
    """A group was detected crossing or was prevented from crossing."""

    kind: ClassVar[str] = "irregular_crossing_attempt"

    direction: Direction
    group_size: JsonInt = Field(ge=1, le=10_000)
    prevented: JsonBool
    location: OptionalLocation = None
    notes: Notes = None


class MigrantSmuggling(_BorderIncident):
    """Facilitators moving persons across a border, possibly by vehicle."""

    kind: ClassVar[str] = "migrant_smuggling"

    persons_smuggled: JsonInt = Field(ge=0, le=10_000)
    facilitators: list[Person] = Field(default_factory=list, max_length=100)
    vehicle_plate: str | None = personal(
        DataCategory.DIRECT_IDENTIFIER, DataKind.VEHICLE_PLATE, max_length=20
    )
    heading_to: Country | None = Field(default=None, description="country the group was heading to")
    location: OptionalLocation = None
    notes: Notes = None


class TraffickingIndicators(_BorderIncident):
    """Indicators of trafficking in human beings were observed."""

    kind: ClassVar[str] = "trafficking_indicators"

    indicators: list[TraffickingIndicator] = Field(min_length=1)
    persons: list[Person] = Field(default_factory=list, max_length=1_000)
    location: OptionalLocation = None
    notes: Notes = None


class DocumentFraud(_BorderIncident):
    """A fraudulent document was detected."""

    kind: ClassVar[str] = "document_fraud"

    document_type: DocumentType
    fraud_type: FraudType
    issuing_state: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    document_number: str | None = personal(
        DataCategory.DIRECT_IDENTIFIER, DataKind.DOCUMENT_NUMBER, max_length=64
    )
    person: Person | None = None
    notes: Notes = None


class ViolenceOrInjury(_BorderIncident):
    """Persons were injured or subjected to violence."""

    kind: ClassVar[str] = "violence_or_injury"

    injured: JsonInt = Field(ge=0, le=10_000)
    cause: InjuryCause = InjuryCause.UNKNOWN
    persons: list[Person] = Field(default_factory=list, max_length=1_000)
    location: OptionalLocation = None
    notes: Notes = None


class DeathOrMissingPerson(_BorderIncident):
    """Persons were found dead or reported missing."""

    kind: ClassVar[str] = "death_or_missing_person"

    count: JsonInt = Field(ge=1, le=10_000)
    status: CasualtyStatus = CasualtyStatus.DEAD
    location: OptionalLocation = None
    notes: Notes = None


class ProtectionConcern(_BorderIncident):
    """A fundamental-rights concern, kept on its own channel as EUROSUR and Frontex do."""

    kind: ClassVar[str] = "protection_concern"

    concern: ConcernType
    persons_affected: JsonInt = Field(default=1, ge=1, le=10_000)
    persons: list[Person] = Field(default_factory=list, max_length=1_000)
    notes: Notes = None


BORDER_INCIDENT: tuple[type[Payload], ...] = (
    IrregularCrossingAttempt,
    MigrantSmuggling,
    TraffickingIndicators,
    DocumentFraud,
    ViolenceOrInjury,
    DeathOrMissingPerson,
    ProtectionConcern,
)
