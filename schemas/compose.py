"""Filling an envelope around a payload with the contract's defaults, ready to sign."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from schemas.envelope import EnvelopeBody, describe_errors, source_of
from schemas.errors import EnvelopeInvalidError
from schemas.json_types import parse_rfc3339
from schemas.payloads import PAYLOAD_TYPES, Payload, border_incident, mixed_movement, payload_model
from schemas.vocab import Accuracy, EventFamily, Handling, ImpactLevel, Purpose, Reliability

DEFAULT_RETENTION = timedelta(days=180)
DEFAULT_HANDLING = Handling.H2
DEFAULT_PURPOSE = {
    EventFamily.MIXED_MOVEMENT: Purpose.PROTECTION,
    EventFamily.BORDER_INCIDENT: Purpose.BORDER_SECURITY,
}
DEFAULT_IMPACT: dict[str, ImpactLevel] = {
    border_incident.DeathOrMissingPerson.kind: ImpactLevel.CRITICAL,
    mixed_movement.VulnerabilityIdentified.kind: ImpactLevel.HIGH,
    border_incident.TraffickingIndicators.kind: ImpactLevel.HIGH,
    border_incident.MigrantSmuggling.kind: ImpactLevel.HIGH,
    border_incident.ViolenceOrInjury.kind: ImpactLevel.HIGH,
    border_incident.ProtectionConcern.kind: ImpactLevel.HIGH,
    mixed_movement.ReceptionStatus.kind: ImpactLevel.LOW,
}

# Keys of a bare-payload line that are envelope attributes rather than payload fields.
ENVELOPE_OVERRIDES = frozenset(
    {
        "id",
        "time",
        "wbxhandling",
        "wbxpurpose",
        "wbxretainuntil",
        "wbxreliability",
        "wbxaccuracy",
        "wbximpact",
        "wbxincident",
        "wbxclosed",
    }
)


def compose_envelope(
    payload: Payload,
    agency: str,
    *,
    event_id: str | None = None,
    time: datetime | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> EnvelopeBody:
    """An unsigned envelope around a payload, with defaults for every unset attribute."""
    moment = time or _override_time(overrides) or datetime.now(UTC)
    attributes: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": source_of(agency),
        "type": payload.event_type(),
        "time": moment,
        "subject": payload.border_section,
        "datacontenttype": "application/json",
        "dataschema": payload.dataschema(),
        "wbxhandling": DEFAULT_HANDLING,
        "wbxpurpose": DEFAULT_PURPOSE[payload.family],
        "wbxretainuntil": moment + DEFAULT_RETENTION,
        "wbxreliability": Reliability.B,
        "wbxaccuracy": Accuracy.KNOWN_PERSONALLY,
        "wbximpact": DEFAULT_IMPACT.get(payload.kind, ImpactLevel.MEDIUM),
        "data": payload.model_dump(mode="json", exclude_none=True),
    }
    attributes.update(overrides or {})
    try:
        return EnvelopeBody.model_validate(attributes)
    except ValidationError as exc:
        raise EnvelopeInvalidError(describe_errors(exc)) from None


def _override_time(overrides: Mapping[str, Any] | None) -> datetime | None:
    """The event time given as an override, so the default retention counts from it."""
    value = (overrides or {}).get("time")
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return parse_rfc3339(value)
        except ValueError:
            return None  # validation reports it with the field name
    return None


def envelope_from_object(obj: Mapping[str, Any], agency: str) -> EnvelopeBody:
    """Read one input object: an (unsigned or signed) envelope, or a bare payload with `type`.

    A bare payload names its event type in `type` (full `wbx.<family>.<kind>` or the short
    kind); keys in ENVELOPE_OVERRIDES set envelope attributes, every other key is payload.
    Raises EnvelopeInvalidError naming the field that is wrong.
    """
    if "specversion" in obj:
        body = {k: v for k, v in obj.items() if k not in ("wbxsig", "wbxkeyid")}
        try:
            envelope = EnvelopeBody.model_validate(body)
        except ValidationError as exc:
            raise EnvelopeInvalidError(describe_errors(exc)) from None
        if envelope.agency != agency:
            raise EnvelopeInvalidError(
                f"source: envelope is from {envelope.agency}, but signing as {agency}"
            )
        return envelope
    payload, overrides = payload_from_object(obj)
    return compose_envelope(payload, agency, overrides=overrides)


def payload_from_object(obj: Mapping[str, Any]) -> tuple[Payload, dict[str, Any]]:
    """The payload of a bare-payload input object, and the envelope attributes it sets.

    The one reading of bare payloads (`wbx validate`, `wbx sign`, `wbx publish`, the
    publisher library): `type` names the event type (full or short), keys in
    ENVELOPE_OVERRIDES are envelope attributes, every other key is payload. Raises
    EnvelopeInvalidError naming the field that is wrong.
    """
    event_type = obj.get("type")
    if not isinstance(event_type, str):
        raise EnvelopeInvalidError("type: missing; a bare payload must name its event type")
    try:
        model = payload_model(event_type)
    except KeyError:
        known = ", ".join(sorted(m.kind for m in PAYLOAD_TYPES.values()))
        raise EnvelopeInvalidError(f"type: {event_type!r} is not one of: {known}") from None
    fields = {k: v for k, v in obj.items() if k != "type" and k not in ENVELOPE_OVERRIDES}
    try:
        payload = model.model_validate(fields)
    except ValidationError as exc:
        raise EnvelopeInvalidError(describe_errors(exc)) from None
    return payload, {k: v for k, v in obj.items() if k in ENVELOPE_OVERRIDES}
