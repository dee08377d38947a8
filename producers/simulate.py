"""Synthetic traffic for demos and tests: realistic, deterministic for a seed, some bad records.

Every draw comes from one `random.Random(seed)`, event ids from its bits and times from a
simulated clock, and Ed25519 signatures are deterministic: the same seed, keys and start give
byte-identical records.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from producers.publisher import encode_record
from schemas.compose import compose_envelope
from schemas.keys import KeyRegistry, key_id, load_private_key, new_key_pair, write_private_key
from schemas.payloads import border_incident as bi
from schemas.payloads import mixed_movement as mm
from schemas.payloads import payload_model
from schemas.signing import sign_wire

AGENCIES = (
    "AL-BP",
    "AL-ASY",
    "BA-BP",
    "BA-SFA",
    "XK-BP",
    "XK-MIG",
    "ME-BP",
    "ME-MIG",
    "MK-BP",
    "MK-MIG",
    "RS-BP",
    "RS-MIG",
)
# Sections each participant reports on, weighted toward the main route.
SECTIONS = {
    "AL": (("AL-GR", 5), ("AL-ME", 4), ("AL-XK", 2), ("AL-MK", 1)),
    "BA": (("BA-HR", 6), ("BA-ME", 3), ("BA-RS", 4)),
    "XK": (("MK-XK", 3), ("AL-XK", 2), ("ME-XK", 2), ("RS-XK", 2)),
    "ME": (("AL-ME", 4), ("BA-ME", 3), ("ME-RS", 2), ("ME-XK", 2), ("HR-ME", 1)),
    "MK": (("GR-MK", 6), ("MK-RS", 5), ("MK-XK", 1), ("BG-MK", 1)),
    "RS": (("MK-RS", 5), ("HU-RS", 5), ("HR-RS", 3), ("BA-RS", 3), ("BG-RS", 2), ("ME-RS", 1)),
}
KINDS = (
    (mm.Apprehension.kind, 45),
    (bi.IrregularCrossingAttempt.kind, 15),
    (mm.AsylumIntention.kind, 10),
    (mm.VulnerabilityIdentified.kind, 5),
    (mm.Referral.kind, 5),
    (bi.MigrantSmuggling.kind, 5),
    (mm.ReceptionStatus.kind, 4),
    (mm.Return.kind, 3),
    (bi.DocumentFraud.kind, 3),
    (bi.ViolenceOrInjury.kind, 2),
    (bi.TraffickingIndicators.kind, 1),
    (bi.ProtectionConcern.kind, 1),
    (bi.DeathOrMissingPerson.kind, 1),
)
NATIONALITIES = (
    ("AFG", 25),
    ("SYR", 22),
    ("MAR", 10),
    ("PAK", 9),
    ("IRQ", 6),
    ("BGD", 5),
    ("TUR", 5),
    ("IND", 4),
    ("EGY", 3),
    ("TUN", 3),
    ("IRN", 3),
    ("CUB", 2),
    ("BDI", 1),
)
NAMES = ("Ahmad", "Omar", "Fatima", "Ali", "Yusuf", "Amina", "Karim", "Leila", "Hassan", "Samir")


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


@dataclass(frozen=True)
class SimKeys:
    """Per-agency signing keys the simulator keeps in a folder, with their registry."""

    keys: dict[str, tuple[Ed25519PrivateKey, str]]
    registry_path: Path

    @classmethod
    def load_or_create(cls, folder: Path, agencies: tuple[str, ...] = AGENCIES) -> SimKeys:
        """Reuse the folder's keys (so output stays byte-identical), creating missing ones."""
        registry_path = folder / "keys.json"
        registry = KeyRegistry.load(registry_path)
        keys: dict[str, tuple[Ed25519PrivateKey, str]] = {}
        for agency in agencies:
            pem = folder / f"{agency}.pem"
            if pem.exists():
                private = load_private_key(pem)
            else:
                private, entry = new_key_pair(agency, valid_from=datetime(2020, 1, 1).astimezone())
                write_private_key(private, pem)
                registry.add(entry)
            keys[agency] = (private, key_id(agency, private.public_key()))
        registry.save(registry_path)
        return cls(keys, registry_path)


@dataclass(frozen=True)
class SimRecord:
    """One simulated Kafka record and the verdict the Verify stage should reach."""

    key: bytes
    value: bytes
    expected: str


class Simulator:
    """Generates realistic traffic from all six participants."""

    def __init__(
        self,
        seed: int,
        start: datetime,
        keys: SimKeys,
        *,
        bad_share: float = 0.02,
        per_hour: float = 120.0,
    ) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not crypto
        self.clock = start
        self.keys = keys
        self.bad_share = bad_share
        self.per_hour = per_hour
        self.travellers: list[tuple[datetime, str, dict[str, Any]]] = []
        self.surge: tuple[str, datetime] | None = None

    def records(
        self, count: int | None = None, until: datetime | None = None
    ) -> Iterator[SimRecord]:
        """Records in simulated time order, until `count` or the simulated time `until`."""
        made = 0
        while (count is None or made < count) and (until is None or self.clock < until):
            yield self._next()
            made += 1

    def _next(self) -> SimRecord:
        hour = self.clock.hour
        rhythm = 1.6 if hour >= 20 or hour < 5 else 0.7  # crossings cluster at night
        self.clock += timedelta(hours=self.rng.expovariate(self.per_hour * rhythm))
        if self.surge is None and self.rng.random() < 0.002:
            self.surge = (_pick(self.rng, SECTIONS["RS"]), self.clock + timedelta(hours=3))
        agency = self.rng.choice(AGENCIES)
        participant = agency[:2]
        kind = _pick(self.rng, KINDS)
        section = _pick(self.rng, SECTIONS[participant])
        if self.surge is not None:
            if self.clock > self.surge[1]:
                self.surge = None
            elif self.rng.random() < 0.5:
                kind, section = mm.Apprehension.kind, self.surge[0]
                agency = "RS-BP" if section in dict(SECTIONS["RS"]) else agency
        data = self._payload(kind, section, participant)
        model = payload_model(kind)
        body = compose_envelope(
            model.model_validate(data),
            agency,
            event_id=str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            time=self.clock,
        )
        private, kid = self.keys.keys[agency]
        wire = body.to_wire()
        roll = self.rng.random()
        if roll < self.bad_share:
            return self._bad(wire, private, kid, section)
        return SimRecord(section.encode(), encode_record(sign_wire(wire, private, kid)), "ok")

    def _bad(
        self, wire: dict[str, Any], private: Ed25519PrivateKey, kid: str, section: str
    ) -> SimRecord:
        flavour = self.rng.choice(("bad_signature", "unknown_key", "schema_invalid"))
        if flavour == "bad_signature":
            signed = sign_wire(wire, private, kid)
            signed["wbximpact"] = "critical" if signed["wbximpact"] != "critical" else "low"
        elif flavour == "unknown_key":
            stranger = Ed25519PrivateKey.from_private_bytes(self.rng.randbytes(32))
            signed = sign_wire(wire, stranger, kid.split(".")[0] + ".000000000000")
        else:
            broken = json.loads(json.dumps(wire))
            broken["data"]["border_section"] = "ZZ-RS"
            signed = sign_wire(broken, private, kid)
        return SimRecord(section.encode(), encode_record(signed), flavour)

    def _person(self, child_rate: float = 0.07) -> dict[str, Any]:
        rng = self.rng
        age = rng.randint(10, 17) if rng.random() < child_rate else rng.randint(18, 60)
        person: dict[str, Any] = {
            "nationality": _pick(rng, NATIONALITIES),
            "sex": "male" if rng.random() < 0.8 else "female",
            "birth_date": (self.clock - timedelta(days=365 * age + rng.randint(0, 364)))
            .date()
            .isoformat(),
        }
        if rng.random() < 0.4:
            person["name"] = f"{rng.choice(NAMES)} {rng.choice(NAMES)}"
            person["document_number"] = f"P{rng.randint(1000000, 9999999)}"
        if age < 18 and rng.random() < 0.7:
            person["vulnerabilities"] = ["uam"]
        elif rng.random() < 0.01:
            person["vulnerabilities"] = ["vot"]
        return person

    def _group(self, participant: str) -> list[dict[str, Any]]:
        size = min(60, int(self.rng.paretovariate(1.3)))
        persons = [self._person() for _ in range(size)]
        # Secondary movement: someone seen days ago turns up in another participant.
        old = [
            t
            for t in self.travellers
            if t[1] != participant and self.clock - t[0] > timedelta(days=1)
        ]
        if old and self.rng.random() < 0.05:
            persons[0] = old[0][2]
            self.travellers.remove(old[0])
        for person in persons:
            if "document_number" in person and self.rng.random() < 0.1:
                self.travellers.append((self.clock, participant, person))
        self.travellers = self.travellers[-200:]
        return persons

    def _payload(self, kind: str, section: str, participant: str) -> dict[str, Any]:
        rng = self.rng
        base: dict[str, Any] = {"border_section": section}
        if kind == mm.Apprehension.kind:
            persons = self._group(participant)
            return {
                **base,
                "direction": rng.choice(("entry", "entry", "exit", "inland")),
                "group_size": len(persons),
                "persons": persons,
            }
        if kind == bi.IrregularCrossingAttempt.kind:
            return {
                **base,
                "direction": "entry",
                "group_size": min(80, int(rng.paretovariate(1.2)) + 1),
                "prevented": rng.random() < 0.6,
            }
        if kind in (mm.AsylumIntention.kind, "asylum_application"):
            return {**base, "persons": [self._person() for _ in range(rng.randint(1, 4))]}
        if kind == mm.VulnerabilityIdentified.kind:
            person = self._person(child_rate=0.6)
            person["vulnerabilities"] = person.get("vulnerabilities") or [
                rng.choice(("vot", "disability", "woman_at_risk"))
            ]
            return {**base, "person": person}
        if kind == mm.Referral.kind:
            return {
                **base,
                "person": self._person(),
                "target": rng.choice(("asylum_procedure", "reception_centre", "child_protection")),
            }
        if kind == mm.ReceptionStatus.kind:
            capacity = rng.choice((120, 250, 400))
            return {
                **base,
                "centre_id": f"{participant}-RC{rng.randint(1, 3)}",
                "capacity": capacity,
                "occupancy": rng.randint(capacity // 3, capacity),
            }
        if kind == mm.Return.kind:
            return {
                **base,
                "return_kind": rng.choice(("assisted_voluntary_return", "readmission")),
                "destination": _pick(rng, NATIONALITIES),
                "persons": [self._person()],
            }
        if kind == bi.MigrantSmuggling.kind:
            return {
                **base,
                "persons_smuggled": rng.randint(3, 40),
                "facilitators": [self._person(0)],
                "vehicle_plate": f"{section[:2]}{rng.randint(100, 999)}{rng.choice('ABCKM')}K",
                "heading_to": rng.choice(("HU", "HR", "RS", "BA")),
            }
        if kind == bi.DocumentFraud.kind:
            return {
                **base,
                "document_type": "passport",
                "fraud_type": rng.choice(("forged", "impostor")),
                "document_number": f"X{rng.randint(100000, 999999)}",
            }
        if kind == bi.ViolenceOrInjury.kind:
            return {**base, "injured": rng.randint(1, 3), "cause": "accident"}
        if kind == bi.TraffickingIndicators.kind:
            return {**base, "indicators": ["forced_labour"], "persons": [self._person(0.3)]}
        if kind == bi.ProtectionConcern.kind:
            return {**base, "concern": "pushback"}
        return {**base, "count": 1, "status": rng.choice(("dead", "missing"))}
