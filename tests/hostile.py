"""A seeded generator of hostile ingest records, each with the one outcome the contract expects.

The same seed gives the same records, so a failure names a seed and an index that reproduce
it. Every class a hostile or broken sender could produce is here: bytes that are not UTF-8
(BOM, UTF-16/32), truncated, deep or huge JSON, numbers outside I-JSON, duplicate member
names, lone surrogates, wrong JSON types in every attribute, unknown types and attributes,
tampering after signing, unknown/revoked/retired/other agencies' keys, clock skew, expired
retention, exact replays, oversize values and keys, and valid events in between.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from schemas.envelope import utc_iso
from schemas.json_types import parse_rfc3339
from schemas.keys import KeyRegistry
from tests.factories import SAMPLE_DATA, AgencyKey, agency_key, envelope, record, signed

VERIFIED = "verified"
REPLAY = "replay"


@dataclass(frozen=True)
class Hostile:
    """One input: its class, Kafka key and value, and the outcome it must get."""

    index: int
    kind: str
    key: bytes | None
    value: bytes
    expect: str  # VERIFIED, REPLAY or the quarantine reason
    agency: str = "RS-BP"
    event_id: str | None = None


@dataclass
class HostileKeys:
    """The keys the generator signs with, and the registry a worker must trust."""

    now: datetime
    good: dict[str, AgencyKey] = field(default_factory=dict)
    revoked: AgencyKey | None = None
    retired: AgencyKey | None = None
    unknown: AgencyKey | None = None

    @classmethod
    def create(cls, now: datetime) -> HostileKeys:
        """Keys for RS-BP and BA-BP, plus a revoked, a retired and an unregistered one."""
        keys = cls(now)
        keys.good = {agency: agency_key(agency, now - timedelta(days=365)) for agency in _AGENCIES}
        keys.revoked = agency_key("RS-BP", now - timedelta(days=365))
        keys.retired = agency_key("RS-BP", now - timedelta(days=365))
        keys.unknown = agency_key("RS-BP", now - timedelta(days=365))
        return keys

    def registry(self) -> KeyRegistry:
        """Good keys, the revoked one revoked, the retired one retired 10 days before now."""
        assert self.revoked and self.retired
        registry = KeyRegistry([entry for _, entry in self.good.values()])
        registry.add(self.revoked[1])
        registry.add(self.retired[1])
        registry.revoke(self.revoked[1].kid, self.now - timedelta(days=1))
        registry.retire(self.retired[1].kid, self.now - timedelta(days=10))
        return registry


_AGENCIES = ("RS-BP", "BA-BP")
_KINDS = tuple(SAMPLE_DATA)
_WRONG_TYPES: list[tuple[tuple[str, ...], Any]] = [
    (("data", "prevented"), "yes"),
    (("data", "prevented"), 1),
    (("data", "group_size"), "5"),
    (("data", "group_size"), True),
    (("data", "group_size"), 5.5),
    (("data", "location", "lat"), "42"),
    (("data", "location"), [42, 21]),
    (("wbxaccuracy",), "2"),
    (("wbxaccuracy",), True),
    (("wbxclosed",), 1),
    (("wbxretainuntil",), None),
    (("data",), "{}"),
    (("data", "persons"), {"nationality": "AFG"}),
    (("data", "persons", 0, "birth_date"), 20090301),
    (("subject",), ["MK-RS"]),
    (("wbxhandling",), 0),
    (("id",), 12345),
]


class HostileGenerator:
    """Deterministic hostile records: `generate(n)` yields n inputs in a seeded order."""

    def __init__(
        self,
        seed: int,
        keys: HostileKeys,
        max_record_bytes: int = 1_048_576,
        now: datetime | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.keys = keys
        # The moment the records are judged at: the keys' own by default (the unit tests'
        # fixed clock); a live test passes the time it sends them.
        self.now = now or keys.now
        self.max_record_bytes = max_record_bytes
        self._accepted: dict[bytes, bytes | None] = {}
        self._classes: list[tuple[str, Callable[[], tuple[bytes | None, bytes, str, str]]]] = [
            (name.removeprefix("_case_"), getattr(self, name))
            for name in sorted(dir(self))
            if name.startswith("_case_")
        ]

    @property
    def classes(self) -> list[str]:
        """The names of every class of input."""
        return [name for name, _ in self._classes]

    def generate(self, count: int) -> Iterator[Hostile]:
        """`count` inputs: every class in turn first, then classes drawn at random."""
        for index in range(count):
            if index < len(self._classes):
                kind, make = self._classes[index]
            else:
                kind, make = self.rng.choice(self._classes)
            key, value, expect, agency = make()
            event_id = _event_id(value)
            if expect == VERIFIED and value in self._accepted:
                expect = REPLAY
            elif expect == VERIFIED:
                self._accepted[value] = key
            yield Hostile(index, kind, key, value, expect, agency, event_id)

    # --- building blocks ----------------------------------------------------------------

    def _envelope(
        self, agency: str = "RS-BP", kind: str | None = None, **overrides: Any
    ) -> dict[str, Any]:
        kind = kind or self.rng.choice(_KINDS)
        time = self.now - timedelta(minutes=self.rng.randint(1, 600))
        return envelope(kind, None, agency, time=time, overrides=overrides or None)

    def _signed(self, obj: dict[str, Any], agency: str = "RS-BP") -> dict[str, Any]:
        return signed(obj, self.keys.good[agency])

    def _key(self) -> bytes:
        return self.rng.choice([b"MK-RS", b"BA-ME", b"", b"\xff\x00junk"])

    # --- classes: each returns (kafka key, value, expected outcome, agency) ----------------

    def _case_valid(self) -> tuple[bytes | None, bytes, str, str]:
        agency = self.rng.choice(_AGENCIES)
        return self._key(), record(self._signed(self._envelope(agency), agency)), VERIFIED, agency

    def _case_exact_replay(self) -> tuple[bytes | None, bytes, str, str]:
        if not self._accepted:
            return self._case_valid()
        # The same key as the original: same partition, so the original is read first.
        value = self.rng.choice(list(self._accepted))
        agency = json.loads(value)["source"].rsplit(":", 1)[1]
        return self._accepted[value], value, VERIFIED, agency

    def _case_not_utf8(self) -> tuple[bytes | None, bytes, str, str]:
        good = record(self._signed(self._envelope()))
        cut = self.rng.randrange(1, len(good) - 1)
        bad = self.rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"])
        return self._key(), good[:cut] + bad + good[cut:], "malformed", "RS-BP"

    def _case_bom_or_utf16_32(self) -> tuple[bytes | None, bytes, str, str]:
        text = json.dumps(self._signed(self._envelope()))
        value = self.rng.choice(
            [
                b"\xef\xbb\xbf" + text.encode("utf-8"),
                text.encode("utf-16"),
                text.encode("utf-16-le"),
                text.encode("utf-32"),
                text.encode("utf-32-be"),
            ]
        )
        return self._key(), value, "malformed", "RS-BP"

    def _case_truncated(self) -> tuple[bytes | None, bytes, str, str]:
        good = record(self._signed(self._envelope()))
        return self._key(), good[: self.rng.randrange(0, len(good) - 1)], "malformed", "RS-BP"

    def _case_deep_nesting(self) -> tuple[bytes | None, bytes, str, str]:
        depth = self.rng.choice([33, 40, 1_000, 5_000, 100_000])
        if self.rng.random() < 0.5:
            return self._key(), b"[" * depth + b"]" * depth, "malformed", "RS-BP"
        obj = self._envelope()
        text = json.dumps(self._signed(obj))
        nested = '{"x":' * depth + "1" + "}" * depth
        return (
            self._key(),
            text[:-1].encode() + b',"deep":' + nested.encode() + b"}",
            ("malformed"),
            "RS-BP",
        )

    def _case_number_outside_ijson(self) -> tuple[bytes | None, bytes, str, str]:
        literal = self.rng.choice(
            [
                "1" * self.rng.choice([17, 400, 4_301, 50_000]),
                str(2**53),
                str(-(2**53)),
                "1e999",
                "-1e400",
                "NaN",
                "Infinity",
                "-Infinity",
            ]
        )
        text = json.dumps(self._signed(self._envelope()))
        value = text.replace('"specversion": "1.0"', f'"specversion": "1.0", "n": {literal}', 1)
        return self._key(), value.encode(), "malformed", "RS-BP"

    def _case_duplicate_member(self) -> tuple[bytes | None, bytes, str, str]:
        obj = self._signed(self._envelope(agency="BA-BP"), "BA-BP")
        text = json.dumps(obj)
        where = self.rng.choice(["top", "data"])
        if where == "top":
            text = text[:-1] + ', "source": "urn:wbx:agency:AL-BP"}'
        else:
            text = text.replace('"data": {', '"data": {"border_section": "AL-GR", ', 1)
        return self._key(), text.encode(), "malformed", "BA-BP"

    def _case_lone_surrogate(self) -> tuple[bytes | None, bytes, str, str]:
        obj = self._signed(self._envelope())
        text = json.dumps(obj)
        target = self.rng.choice(["id", "source", "wbxkeyid", "name"])
        escape = self.rng.choice(["\\ud800", "\\udfff", "\\udc00abc", "x\\ud83d"])
        if target == "name":
            text = text[:-1] + f', "{escape}": 1}}'
        else:
            text = text.replace(f'"{target}": "', f'"{target}": "{escape}', 1)
        return self._key(), text.encode(), "malformed", "RS-BP"

    def _case_control_and_unicode_edges(self) -> tuple[bytes | None, bytes, str, str]:
        obj = self._envelope(kind="death_or_missing_person")
        if self.rng.random() < 0.5:
            # Escaped NUL, a BOM character and astral characters inside a string are I-JSON.
            obj["data"]["notes"] = "a\u0000b\ufeff\U0001f600 \u202e" + "ž" * self.rng.randint(0, 50)
            return self._key(), record(self._signed(obj)), VERIFIED, "RS-BP"
        raw = record(self._signed(obj))
        cut = self.rng.randrange(1, len(raw) - 1)
        return self._key(), raw[:cut] + b"\x00" + raw[cut:], "malformed", "RS-BP"

    def _case_not_an_object(self) -> tuple[bytes | None, bytes, str, str]:
        value = self.rng.choice([b"", b"null", b"[]", b"[1,2]", b'"text"', b"42", b"true", b" "])
        return self._key(), value, "malformed", "RS-BP"

    def _case_missing_or_non_string_attribute(self) -> tuple[bytes | None, bytes, str, str]:
        obj = self._signed(self._envelope())
        name = self.rng.choice(["source", "time", "wbxkeyid", "wbxsig"])
        if self.rng.random() < 0.5:
            del obj[name]
        else:
            obj[name] = self.rng.choice([None, 1, [], {}, True])
        return self._key(), record(obj), "malformed", "RS-BP"

    def _case_wrong_json_type(self) -> tuple[bytes | None, bytes, str, str]:
        path, wrong = self.rng.choice(_WRONG_TYPES)
        kind = {
            "prevented": "irregular_crossing_attempt",
            "group_size": "irregular_crossing_attempt",
            "location": "irregular_crossing_attempt",
            "persons": "apprehension",
        }.get(str(path[1]) if len(path) > 1 else "", self.rng.choice(_KINDS))
        obj = envelope(kind, None, "RS-BP", time=self.now - timedelta(hours=2))
        target: Any = obj
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = wrong
        return self._key(), record(self._signed(obj)), "schema_invalid", "RS-BP"

    def _case_unknown_type_or_attribute(self) -> tuple[bytes | None, bytes, str, str]:
        obj = self._envelope()
        choice = self.rng.randrange(3)
        if choice == 0:
            obj["type"] = "wbx.mixed_movement.teleportation"
        elif choice == 1:
            obj["wbxextra"] = "not in the contract"
        else:
            obj["data"]["colour"] = "blue"
        return self._key(), record(self._signed(obj)), "schema_invalid", "RS-BP"

    def _case_tampered_after_signing(self) -> tuple[bytes | None, bytes, str, str]:
        obj = self._signed(self._envelope())
        name = self.rng.choice(["id", "subject", "wbximpact", "wbxhandling", "data", "time"])
        changed = copy.deepcopy(obj)
        if name == "id":
            changed["id"] = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        elif name == "subject":
            changed["subject"] = "AL-ME" if obj["subject"] != "AL-ME" else "BA-ME"
        elif name == "wbximpact":
            changed["wbximpact"] = "low" if obj["wbximpact"] != "low" else "critical"
        elif name == "wbxhandling":
            changed["wbxhandling"] = "H0" if obj["wbxhandling"] != "H0" else "H3"
        elif name == "data":
            changed["data"]["border_section"] = "AL-GR"
        else:
            changed["time"] = utc_iso(parse_rfc3339(obj["time"]) - timedelta(seconds=1))
        return self._key(), record(changed), "bad_signature", "RS-BP"

    def _case_key_problems(self) -> tuple[bytes | None, bytes, str, str]:
        assert self.keys.unknown and self.keys.revoked and self.keys.retired
        choice = self.rng.randrange(4)
        if choice == 0:
            return (
                self._key(),
                record(signed(self._envelope(), self.keys.unknown)),
                ("unknown_key"),
                "RS-BP",
            )
        if choice == 1:
            # BA-BP's key on an RS-BP event.
            return (
                self._key(),
                record(signed(self._envelope(), self.keys.good["BA-BP"])),
                ("source_mismatch"),
                "RS-BP",
            )
        if choice == 2:
            return (
                self._key(),
                record(signed(self._envelope(), self.keys.revoked)),
                ("revoked_key"),
                "RS-BP",
            )
        # Dated after the retired key's end of validity.
        return (
            self._key(),
            record(signed(self._envelope(), self.keys.retired)),
            ("key_not_valid_at_time"),
            "RS-BP",
        )

    def _case_clock(self) -> tuple[bytes | None, bytes, str, str]:
        if self.rng.random() < 0.5:
            # 8 minutes: past the 5 allowed, with room for the minutes a long run takes
            # between making a record and the worker reading it.
            moment = self.now + timedelta(minutes=self.rng.choice([8, 60, 60 * 24 * 365]))
        else:
            moment = self.now - timedelta(days=self.rng.choice([31, 200]))
        obj = envelope(
            self.rng.choice(_KINDS),
            None,
            "RS-BP",
            time=moment,
            overrides={"wbxretainuntil": moment + timedelta(days=3650)},
        )
        return self._key(), record(self._signed(obj)), "too_old_or_future", "RS-BP"

    def _case_retention_expired(self) -> tuple[bytes | None, bytes, str, str]:
        moment = self.now - timedelta(days=2)
        obj = envelope(
            self.rng.choice(_KINDS),
            None,
            "RS-BP",
            time=moment,
            overrides={"wbxretainuntil": moment + timedelta(hours=self.rng.randint(1, 24))},
        )
        return self._key(), record(self._signed(obj)), "retention_expired", "RS-BP"

    def _case_oversize(self) -> tuple[bytes | None, bytes, str, str]:
        # Rare: a few megabytes each.
        if self.rng.random() < 0.8:
            return self._case_valid()
        obj = self._envelope(kind="death_or_missing_person")
        obj["data"]["notes"] = "x" * (self.max_record_bytes + self.rng.randint(1, 2_000_000))
        return self._key(), record(self._signed(obj)), "oversize", "RS-BP"

    def _case_oversize_key(self) -> tuple[bytes | None, bytes, str, str]:
        if self.rng.random() < 0.8:
            return b"k" * self.rng.randint(257, 5_000), b"junk", "malformed", "RS-BP"
        return b"K" * 3_000_000, b"\x00junk", "malformed", "RS-BP"


def _event_id(value: bytes) -> str | None:
    try:
        obj = json.loads(value)
    except (ValueError, RecursionError):
        return None
    found = obj.get("id") if isinstance(obj, dict) else None
    return found if isinstance(found, str) else None
