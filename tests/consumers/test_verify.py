"""Verify stage: every outcome of `verify_record` without a broker."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from consumers.quarantine import Position
from consumers.verify import (
    OVERSIZE,
    Accepted,
    Rejected,
    Replay,
    ReplayGuard,
    verify_record,
)
from schemas.compose import envelope_from_object
from schemas.keys import KeyRegistry, new_key_pair
from schemas.signing import sign_envelope
from schemas.verification import Verifier

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def agency_key():
    return new_key_pair("RS-BP", valid_from=NOW - timedelta(days=365))


@pytest.fixture
def verifier(agency_key):
    _, entry = agency_key
    return Verifier(KeyRegistry([entry]), clock=lambda: NOW)


def _signed(agency_key, event_id: str | None = None) -> bytes:
    private, entry = agency_key
    obj = {
        "type": "death_or_missing_person",
        "border_section": "BA-ME",
        "count": 1,
        "time": (NOW - timedelta(hours=1)).isoformat(),
        "id": event_id or str(uuid.uuid4()),
    }
    body = envelope_from_object(obj, "RS-BP")
    return json.dumps(sign_envelope(body, private, entry.kid).to_wire()).encode()


def _run(raw, verifier, guard, offset=0, max_bytes=100_000):
    position = Position("wbx.ingest.v1", 0, offset)
    return verify_record(raw, position, verifier, guard, max_bytes=max_bytes, received_at=NOW)


def test_valid_record_is_accepted_with_digest_and_original_bytes(agency_key, verifier):
    raw = _signed(agency_key)
    outcome = _run(raw, verifier, ReplayGuard({}, timedelta(days=31)))
    assert isinstance(outcome, Accepted)
    assert outcome.raw == raw
    assert len(outcome.digest) == 64


@pytest.mark.parametrize("raw", [b"not json", b"", b"[1,2]", b'{"a": 1}', b"\xff\xfe"])
def test_garbage_goes_to_quarantine_with_original_bytes_and_position(raw, verifier):
    outcome = _run(raw, verifier, ReplayGuard({}, timedelta(days=31)), offset=42)
    assert isinstance(outcome, Rejected)
    record = outcome.record
    assert record.reason == "malformed"
    assert base64.b64decode(record.original_b64) == raw
    assert (record.topic, record.partition, record.offset) == ("wbx.ingest.v1", 0, 42)
    assert record.received_at == NOW


def test_oversize_record_is_quarantined_not_parsed(agency_key, verifier):
    raw = _signed(agency_key)
    outcome = _run(raw, verifier, ReplayGuard({}, timedelta(days=31)), max_bytes=100)
    assert isinstance(outcome, Rejected)
    record = outcome.record
    assert record.reason == OVERSIZE
    assert (record.original_size, record.original_truncated) == (len(raw), False)
    assert record.original_sha256 == hashlib.sha256(raw).hexdigest()


def test_tampered_record_quarantine_names_event_when_schema_parses(agency_key, verifier):
    raw = _signed(agency_key).replace(b'"count": 1', b'"count": 2')
    outcome = _run(raw, verifier, ReplayGuard({}, timedelta(days=31)))
    assert isinstance(outcome, Rejected)
    assert outcome.record.reason == "bad_signature"


def test_replay_from_another_record_is_dropped(agency_key, verifier):
    guard = ReplayGuard({}, timedelta(days=31))
    raw = _signed(agency_key)
    assert isinstance(_run(raw, verifier, guard, offset=1), Accepted)
    assert isinstance(_run(raw, verifier, guard, offset=7), Replay)


def test_redelivery_of_the_same_record_passes_again(agency_key, verifier):
    guard = ReplayGuard({}, timedelta(days=31))
    raw = _signed(agency_key)
    assert isinstance(_run(raw, verifier, guard, offset=3), Accepted)
    assert isinstance(_run(raw, verifier, guard, offset=3), Accepted)


def test_expire_forgets_only_old_pairs_of_the_given_partition(agency_key):
    seen = {
        "a|1": "0:1|" + str(int((NOW - timedelta(days=40)).timestamp())),
        "a|2": "1:1|" + str(int((NOW - timedelta(days=40)).timestamp())),
        "a|3": "0:2|" + str(int((NOW - timedelta(days=1)).timestamp())),
    }
    guard = ReplayGuard(seen, timedelta(days=31))
    assert guard.expire(NOW, partition=0) == 1
    assert set(seen) == {"a|2", "a|3"}
