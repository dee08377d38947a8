"""Builders shared by the tests: keys, envelopes, signed records."""

from __future__ import annotations

import hashlib
import json
import tomllib
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from schemas.audit import AuditChain, AuditFact, AuditRecord
from schemas.compose import compose_envelope
from schemas.derived import (
    Alert,
    AlertEvent,
    Measure,
    Provenance,
    SharedRecord,
    derived_id,
)
from schemas.disclosure import PerturbationTable, PTableFile, load_ptable
from schemas.keys import KeyEntry, new_key_pair
from schemas.payloads import PAYLOAD_TYPES, payload_model
from schemas.receipts import RECEIPT_KEY_PURPOSE, Receipt
from schemas.settings import INFRA_DIR, KafkaSettings
from schemas.signed import key_id
from schemas.signing import sign_wire
from schemas.tables import Coordinates, FineCell
from schemas.vocab import Accuracy, Handling, ImpactLevel, Purpose, Reliability

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
        summary={"vulnerabilities": ["uam"], "pseudonyms": ["psn:k1:3f9a0c"]},
        handling=Handling.H2,
        purpose=Purpose.PROTECTION,
        reliability=Reliability.B,
        accuracy=Accuracy.KNOWN_PERSONALLY,
        retain_until=now + timedelta(days=90),
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
        title=f"Unaccompanied or separated child, or victim of trafficking, identified ({section})",
        handling=Handling.H2,
        retain_until=now + timedelta(days=30),
        events=[event],
    )


_FAMILY_OF_KIND = {model.kind: model.family.value for model in PAYLOAD_TYPES.values()}


def record_key_of(event_id: str | None) -> int:
    """A fixed 32-bit record key for an event id (random when there is none)."""
    seed = (event_id or str(uuid.uuid4())).encode()
    return int.from_bytes(hashlib.sha256(seed).digest()[:4], "big")


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
        record_key=record_key_of(event_id),
        data={"border_section": section, **data},
        provenance=Provenance(
            event_id=event_id or str(uuid.uuid4()),
            source=f"urn:wbx:agency:{agency}",
            digest="ab" * 32,
        ),
    )


def fine_cell(
    day: date,
    records: int = 7,
    *,
    measure: Measure = Measure.PERSONS,
    participant: str = "RS",
    section: str = "MK-RS",
    kind: str = "apprehension",
    nationality: str = "AFG",
    sex: str = "male",
    age_band: str = "18-34",
    flags: tuple[str, ...] = (),
    key_sum: int | None = None,
) -> FineCell:
    """A fine cell of one day as the worker publishes it (events have no person fields)."""
    person = measure is Measure.PERSONS
    where = Coordinates(
        measure.value,
        participant,
        section,
        kind,
        nationality if person else "",
        sex if person else "",
        age_band if person else "",
        flags if person else (),
    )
    keys = record_key_of(where.key(day)) if key_sum is None else key_sum
    return FineCell.of(day, where, [records, keys])


# --- canaries: personal data that must never leave the originating agency's view -----------

CANARY = "ZQXCANARY"
CANARY_BIRTH = "1990-07-13"  # 36 on 2026-11-20
CANARY_LAT, CANARY_LON = 42.987654, 18.123456


def canary_person(tag: str, **extra: Any) -> dict[str, Any]:
    """A person whose every personal field holds a canary tagged `tag`."""
    return {
        "nationality": "AFG",
        "sex": "male",
        "birth_date": CANARY_BIRTH,
        "name": f"{CANARY}-NAME-{tag}",
        "document_number": f"{CANARY}-DOC-{tag}",
        "biometric_ref": f"{CANARY}-BIO-{tag}",
        "phone": f"+381 {CANARY} {tag}",
        "vulnerabilities": ["disability"],
        **extra,
    }


LOCATION = {"lat": CANARY_LAT, "lon": CANARY_LON}
NOTES = f"{CANARY}-NOTES free text about the group"

# Every personal field of every type holds a canary (checked by the coverage test below).
EVERY_TYPE: dict[str, dict[str, Any]] = {
    "apprehension": {
        "border_section": "MK-RS",
        "direction": "entry",
        "group_size": 3,
        "location": LOCATION,
        "persons": [canary_person("1"), canary_person("2", age_band="18-34")],
        "notes": NOTES,
    },
    "asylum_intention": {
        "border_section": "BA-ME",
        "persons": [canary_person("3")],
        "location": LOCATION,
        "notes": NOTES,
    },
    "asylum_application": {
        "border_section": "AL-ME",
        "persons": [canary_person("4", age_band="35-64")],
        "case_reference": f"{CANARY}-CASE",
        "notes": NOTES,
    },
    "vulnerability_identified": {
        "border_section": "MK-RS",
        "person": canary_person("5", age_band="14-17", vulnerabilities=["uam"]),
        "location": LOCATION,
        "notes": NOTES,
    },
    "referral": {
        "border_section": "BA-ME",
        "person": canary_person("6", age_band="35-64"),
        "target": "child_protection",
        "notes": NOTES,
    },
    "reception_status": {
        "border_section": "MK-RS",
        "centre_id": "MK-VINOJUG",
        "capacity": 300,
        "occupancy": 120,
    },
    "return": {
        "border_section": "AL-ME",
        "return_kind": "readmission",
        "destination": "AFG",
        "persons": [canary_person("7", age_band="35-64")],
        "notes": NOTES,
    },
    "irregular_crossing_attempt": {
        "border_section": "BA-ME",
        "direction": "exit",
        "group_size": 4,
        "prevented": True,
        "location": LOCATION,
        "notes": NOTES,
    },
    "migrant_smuggling": {
        "border_section": "MK-RS",
        "persons_smuggled": 5,
        "facilitators": [canary_person("8", age_band="35-64")],
        "vehicle_plate": f"{CANARY}-PL",
        "heading_to": "RS",
        "location": LOCATION,
        "notes": NOTES,
    },
    "trafficking_indicators": {
        "border_section": "AL-ME",
        "indicators": ["forced_labour"],
        "persons": [canary_person("9", age_band="35-64")],
        "location": LOCATION,
        "notes": NOTES,
    },
    "document_fraud": {
        "border_section": "BA-ME",
        "document_type": "passport",
        "fraud_type": "forged",
        "document_number": f"{CANARY}-FRAUDDOC",
        "person": canary_person("10", age_band="35-64"),
        "notes": NOTES,
    },
    "violence_or_injury": {
        "border_section": "MK-RS",
        "injured": 1,
        "persons": [canary_person("11", age_band="35-64")],
        "location": LOCATION,
        "notes": NOTES,
    },
    "death_or_missing_person": {
        "border_section": "AL-ME",
        "count": 1,
        "location": LOCATION,
        "notes": NOTES,
    },
    "protection_concern": {
        "border_section": "BA-ME",
        "concern": "pushback",
        "persons": [canary_person("12", age_band="35-64")],
        "notes": NOTES,
    },
}
CANARIES = sorted(
    {
        *(f"{CANARY}-{part}-{n}" for part in ("NAME", "DOC", "BIO") for n in range(1, 13)),
        *(f"+381 {CANARY} {n}" for n in range(1, 13)),
        f"{CANARY}-CASE",
        f"{CANARY}-PL",
        f"{CANARY}-FRAUDDOC",
        NOTES,
    }
)


PTABLE = load_ptable(INFRA_DIR / "ptable.toml")
EXACT_PTABLE = """small = 1
max_noise = 0
[[rows]]
count = 1
outcomes = [{ noise = 0, probability = 1.0 }]
"""
"""No protection at all: for tests that prove counting (published values with noise cannot)."""
EXACT = PerturbationTable(PTableFile.model_validate(tomllib.loads(EXACT_PTABLE)))
"""The perturbation table the platform ships (`infra/ptable.toml`)."""


def self_signed(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate (it is its own CA) and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def scram_over_tls(tmp_path: Path) -> KafkaSettings:
    """Kafka settings for SCRAM-SHA-512 over TLS (user wbx-worker, password s3cret-pass)."""
    ca, _ = self_signed(tmp_path, "wbx-test-ca")
    return KafkaSettings(
        bootstrap="kafka:9093",
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="wbx-worker",
        sasl_password=SecretStr("s3cret-pass"),
        ssl_cafile=ca,
    )


RECEIPT_KEY = Ed25519PrivateKey.generate()
"""The tests' platform receipt key."""


def make_receipt(
    agency: str = "RS-BP",
    verdict: str = "ok",
    *,
    offset: int = 0,
    event_id: str | None = None,
    received_at: datetime | None = None,
    key: Ed25519PrivateKey = RECEIPT_KEY,
) -> Receipt:
    """A receipt for one record of `agency`, signed with `key`."""
    moment = received_at or datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    return Receipt(
        agency=agency,
        event_id=event_id or str(uuid.uuid4()),
        verdict=verdict,
        detail="" if verdict == "ok" else f"{verdict} (test)",
        record_sha256=hashlib.sha256(f"{agency}{offset}".encode()).hexdigest(),
        signature_sha256=hashlib.sha256(b"sig").hexdigest(),
        received_at=moment,
        issued_at=moment + timedelta(milliseconds=20),
        topic="wbx.ingest.v1",
        partition=0,
        offset=offset,
        signer=key_id(key.public_key(), RECEIPT_KEY_PURPOSE),
    ).signed_with(key)


AUDIT_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64)))
"""The platform key audit records in unit tests are signed with (fixed: repeatable ids)."""


def make_audit_fact(n: int = 1, **overrides: Any) -> AuditFact:
    """The release of event `ev-<n>` to the shared view, one second after NOW per `n`."""
    values: dict[str, Any] = {
        "audit_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"audit-{n}")),
        "at": NOW + timedelta(seconds=n),
        "actor": "worker",
        "recipient": "view:pcc_operator",
        "purpose": Purpose.BORDER_SECURITY,
        "event_id": f"ev-{n}",
        "source": "urn:wbx:agency:RS-BP",
        "type": "eu.wbx.border_incident.v1",
        "fields": {"persons[0].document_number": "pseudonymise"},
        "pseudonyms": [f"psn:dev:{n:032x}"],
        **overrides,
    }
    return AuditFact.model_validate(values)


def make_audit_chain(
    count: int, chain: str = "worker/test/run1/verify-protect", key: Ed25519PrivateKey = AUDIT_KEY
) -> tuple[AuditChain, list[AuditRecord]]:
    """A chain of `count` linked, signed records (facts 1..count) and the chain itself."""
    writer = AuditChain(chain, key, key_id(key.public_key(), RECEIPT_KEY_PURPOSE))
    records = []
    for n in range(1, count + 1):
        records.append(writer.link(make_audit_fact(n)))
        writer.mark_sent(n, writer.head)
    return writer, records
