"""Every event payload of the contract, and the registry from CloudEvents `type` to model."""

from __future__ import annotations

from schemas.payloads.border_incident import (
    BORDER_INCIDENT,
    DeathOrMissingPerson,
    DocumentFraud,
    IrregularCrossingAttempt,
    MigrantSmuggling,
    ProtectionConcern,
    TraffickingIndicators,
    ViolenceOrInjury,
)
from schemas.payloads.common import Location, Payload, Person, SectionId, check_section_id
from schemas.payloads.mixed_movement import (
    MIXED_MOVEMENT,
    Apprehension,
    AsylumApplication,
    AsylumIntention,
    ReceptionStatus,
    Referral,
    Return,
    VulnerabilityIdentified,
)

PAYLOAD_TYPES: dict[str, type[Payload]] = {
    model.event_type(): model for model in (*MIXED_MOVEMENT, *BORDER_INCIDENT)
}
"""CloudEvents `type` -> payload model, for all fourteen event types."""

PAYLOADS_BY_KIND: dict[str, type[Payload]] = {model.kind: model for model in PAYLOAD_TYPES.values()}
"""Short kind (`apprehension`) -> payload model; kinds are unique across families."""


def payload_model(event_type: str) -> type[Payload]:
    """The payload model for a full type (`wbx.x.y`) or a short kind (`y`); KeyError if none."""
    if event_type in PAYLOAD_TYPES:
        return PAYLOAD_TYPES[event_type]
    return PAYLOADS_BY_KIND[event_type]


__all__ = [
    "PAYLOADS_BY_KIND",
    "PAYLOAD_TYPES",
    "Apprehension",
    "AsylumApplication",
    "AsylumIntention",
    "DeathOrMissingPerson",
    "DocumentFraud",
    "IrregularCrossingAttempt",
    "Location",
    "MigrantSmuggling",
    "Payload",
    "Person",
    "ProtectionConcern",
    "ReceptionStatus",
    "Referral",
    "Return",
    "SectionId",
    "TraffickingIndicators",
    "ViolenceOrInjury",
    "VulnerabilityIdentified",
    "check_section_id",
    "payload_model",
]
