"""Builders shared by the tests: keys, envelopes, signed records."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from schemas.compose import compose_envelope
from schemas.derived import (
    Alert,
    AlertEvent,
    Dimension,
    Measure,
    Period,
    Provenance,
    SharedRecord,
    StatCell,
    derived_id,
)
from schemas.keys import KeyEntry, new_key_pair
from schemas.payloads import PAYLOAD_TYPES, payload_model
from schemas.signing import sign_wire
from schemas.vocab import Handling, ImpactLevel

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
"""The fixed "now" of unit tests."""

AgencyKey = tuple[Ed25519PrivateKey, KeyEntry]

SAMPLE_DATA: dict[str, dict[str, Any]] = {
    "death_or_missing_person": {"border_section": "BA-ME", "count": 1},
    "irregular_crossing_attempt": {
        "border_section": "MK-RS",
        "direction": "entry",
        "group_size": 5,
        "prevented": True,
        "location": {"lat": 42.3, "lon": 21.7},
    },
    "apprehension": {
        "border_section": "MK-RS",
        "direction": "entry",
        "group_size": 2,
        "persons": [
            {"nationality": "AFG", "sex": "male", "birth_date": "2009-03-01"},
            {"nationality": "SYR", "sex": "female", "vulnerabilities": ["uam"]},
        ],
    },
    "asylum_application": {
        "border_section": "MK-RS",
        "persons": [
            {
                "nationality": "AFG",
                "sex": "female",
                "birth_date": "1990-05-01",
                "name": "A. B.",
                "document_number": "P1234567",
            }
        ],
        "case_reference": "RS-2026-0001",
    },
    "reception_status": {
        "border_section": "MK-RS",
        "centre_id": "RS-PRESEVO",
        "capacity": 500,
        "occupancy": 320,
    },
}
"""One valid payload per kind the tests use most, covering every JSON type."""


def agency_key(agency: str = "RS-BP", valid_from: datetime | None = None) -> AgencyKey:
    """A fresh key pair of `agency`, valid for a year before NOW unless told otherwise."""
    return new_key_pair(agency, valid_from=valid_from or NOW - timedelta(days=365))


def envelope(
    kind: str = "death_or_missing_person",
    data: dict[str, Any] | None = None,
    agency: str = "RS-BP",
    *,
    time: datetime | None = None,
    event_id: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The unsigned wire form (a JSON object) of a valid envelope."""
    payload = payload_model(kind).model_validate(data or SAMPLE_DATA[kind])
    body = compose_envelope(
        payload,
        agency,
        event_id=event_id or str(uuid.uuid4()),
        time=time or NOW - timedelta(hours=1),
        overrides=overrides,
    )
    return body.to_wire()


def signed(obj: dict[str, Any], key: AgencyKey) -> dict[str, Any]:
    """`obj` signed with `key`, whatever it holds (tests sign invalid documents too)."""
    private, entry = key
    return sign_wire(obj, private, entry.kid)


def record(obj: Any) -> bytes:
    """The Kafka record value of a JSON value: compact UTF-8 JSON."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def make_alert(
    pcc: str = "pcc-trebinje",
    severity: str = "high",
    section: str = "BA-ME",
    *,
    revision: int = 1,
    alert_id: str | None = None,
    now: datetime | None = None,
) -> Alert:
    """An alert record as the Route stage writes it (about an event at `now`, default now)."""
    now = now or datetime.now(UTC)
    event = AlertEvent(
        event_id=str(uuid.uuid4()),
        source="urn:wbx:agency:BA-BP",
        type="wbx.mixed_movement.vulnerability_identified",
        time=now,
        border_section=section,
    )
    return Alert(
        id=alert_id or derived_id("test-alert", str(uuid.uuid4())),
        revision=revision,
        rule="protection_child_or_vot",
        severity=ImpactLevel(severity),
        border_section=section,
        pcc=pcc,
        time=now,
        raised_at=now,
        title="test alert",
        handling=Handling.H2,
        retain_until=now + timedelta(days=30),
        events=[event],
    )


_FAMILY_OF_KIND = {model.kind: model.family.value for model in PAYLOAD_TYPES.values()}


def shared_record(
    kind: str,
    data: dict[str, Any],
    *,
    agency: str = "BA-BP",
    section: str = "BA-ME",
    time: datetime = NOW,
    event_id: str | None = None,
    incident: str | None = None,
) -> SharedRecord:
    """A protected record as the Protect stage writes it to `wbx.shared.v1`."""
    family = _FAMILY_OF_KIND[kind]
    return SharedRecord(
        record_id=str(uuid.uuid4()),
        view="pcc_operator",
        type=f"wbx.{family}.{kind}",
        kind=kind,
        family=family,
        time=time,
        agency=agency,
        participant=agency[:2],
        border_section=section,
        handling=Handling.H2,
        purpose="protection",
        retain_until=time + timedelta(days=90),
        reliability="B",
        accuracy=2,
        impact="medium",
        incident=incident,
        pseudonym_key_id="k1",
        data={"border_section": section, **data},
        provenance=Provenance(
            event_id=event_id or str(uuid.uuid4()),
            source=f"urn:wbx:agency:{agency}",
            digest="ab" * 32,
        ),
    )


def stat_cell(
    day: date, value: str, count: int | None = 7, dimension: Dimension = Dimension.NATIONALITY
) -> StatCell:
    """A published day cell of persons (count None: suppressed, shown as "<5")."""
    return StatCell(
        key=f"day|{day}|persons|{dimension.value}|{value}",
        period=Period.DAY,
        window_start=day,
        window_end=day + timedelta(days=1),
        measure=Measure.PERSONS,
        dimension=dimension,
        value=value,
        count=count,
        suppressed=count is None,
        display="<5" if count is None else str(count),
        updated_at=datetime.now(UTC),
    )
