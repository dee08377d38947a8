"""Verify stage: every outcome of `verify_record` without a broker."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consumers.quarantine import (
    KEEP_KEY_BYTES,
    KEEP_VALUE_BYTES,
    Position,
    quarantine_key,
    quarantine_record,
)
from consumers.verify import (
    OVERSIZE,
    UNPROCESSABLE,
    Accepted,
    Outcome,
    Rejected,
    Replay,
    ReplayGuard,
    receipt_time,
    verify_record,
)
from schemas.keys import KeyRegistry, new_key_pair
from schemas.verification import Reason, Verifier
from tests.factories import NOW, envelope, record, signed
from tests.factories import agency_key as new_agency_key
from tests.hostile import REPLAY, VERIFIED, HostileGenerator, HostileKeys


@pytest.fixture
def agency_key():
    return new_key_pair("RS-BP", valid_from=NOW - timedelta(days=365))


@pytest.fixture
def verifier(agency_key):
    _, entry = agency_key
    return Verifier(KeyRegistry([entry]), clock=lambda: NOW)


def _signed(agency_key, event_id: str | None = None) -> bytes:
    return record(signed(envelope(event_id=event_id), agency_key))


def _run(raw, verifier, guard=None, offset=0, max_bytes=100_000, key=None):
    position = Position("wbx.ingest.v1", 0, offset)
    guard = guard or ReplayGuard({}, timedelta(days=31))
    return verify_record(
        raw, position, verifier, guard, max_bytes=max_bytes, received_at=NOW, key=key
    )


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
    raw = _signed(agency_key).replace(b'"count":1', b'"count":2')
    assert b'"count":2' in raw
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


# --- hostile inputs: one outcome each, never an exception -----------------------------------

HOSTILE_KEYS = HostileKeys.create(NOW)
HOSTILE_VERIFIER = Verifier(HOSTILE_KEYS.registry(), clock=lambda: NOW)


def _outcome_name(outcome: Outcome) -> str:
    if isinstance(outcome, Accepted):
        return VERIFIED
    if isinstance(outcome, Replay):
        return REPLAY
    return outcome.record.reason


def test_every_hostile_class_gets_exactly_its_expected_outcome():
    generator = HostileGenerator(seed=8, keys=HOSTILE_KEYS, max_record_bytes=1_048_576)
    guard = ReplayGuard({}, timedelta(days=31))
    seen: dict[str, int] = {}
    for offset, item in enumerate(generator.generate(600)):
        position = Position("wbx.ingest.v1", 0, offset)
        outcome = verify_record(
            item.value,
            position,
            HOSTILE_VERIFIER,
            guard,
            max_bytes=1_048_576,
            received_at=NOW,
            key=item.key,
        )
        assert _outcome_name(outcome) == item.expect, (item.index, item.kind, outcome)
        if isinstance(outcome, Rejected):
            # Always writable, and small whatever came in.
            encoded = outcome.record.model_dump_json().encode("utf-8")
            assert len(encoded) < 400_000, (item.kind, len(encoded))
        seen[item.kind] = seen.get(item.kind, 0) + 1
    assert set(seen) == set(generator.classes)


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"\xef\xbb\xbf{}", "byte order mark"),
        ('{"a":1}'.encode("utf-16"), "UTF-16"),
        (b"[" * 40_000 + b"]" * 40_000, "levels deep"),
        (b'{"n":' + b"1" * 5_000 + b"}", "outside"),
        (b'{"a":1,"a":1}', "appears twice"),
        (b'{"id":"\\ud800"}', "lone surrogate"),
        (b'{"n":1e999}', "IEEE 754"),
        (b'{"n":NaN}', "NaN"),
    ],
)
def test_records_that_used_to_crash_the_agent_are_malformed_with_a_precise_detail(raw, needle):
    outcome = _run(raw, HOSTILE_VERIFIER, ReplayGuard({}, timedelta(days=31)))
    assert isinstance(outcome, Rejected)
    assert outcome.record.reason == "malformed"
    assert needle in outcome.record.detail


def test_rejected_identity_with_a_lone_surrogate_is_stored_escaped():
    obj = envelope()
    obj["wbxkeyid"] = "no-such-key"
    obj["wbxsig"] = "A" * 86
    raw = json.dumps(obj).replace('"id": "', '"id": "\\ud800', 1).encode()
    # Refused as not I-JSON; a verdict naming the id must still encode.
    outcome = _run(raw, HOSTILE_VERIFIER, ReplayGuard({}, timedelta(days=31)))
    assert isinstance(outcome, Rejected)
    outcome.record.model_dump_json().encode("utf-8")
    named = quarantine_record(raw, Position("t", 0, 0), "x", "y", NOW, event_id="\ud800abc")
    assert named.event_id == "\\ud800abc"
    named.model_dump_json().encode("utf-8")


def test_oversize_key_and_value_are_kept_as_digest_and_bounded_prefix():
    key = b"K" * 3_000_000
    value = b"v" * 3_000_000
    outcome = _run(value, HOSTILE_VERIFIER, max_bytes=1_048_576, key=key)
    assert isinstance(outcome, Rejected)
    record = outcome.record
    assert record.reason == OVERSIZE
    assert record.original_truncated and record.original_size == len(value)
    assert record.original_sha256 == hashlib.sha256(value).hexdigest()
    assert len(base64.b64decode(record.original_b64 or "")) == KEEP_VALUE_BYTES
    assert record.key_size == len(key)
    assert len(base64.b64decode(record.key_b64 or "")) == KEEP_KEY_BYTES
    assert quarantine_key(key) == b"sha256:" + hashlib.sha256(key).hexdigest().encode()
    assert quarantine_key(b"MK-RS") == b"MK-RS"


def test_retention_expired_quarantine_keeps_digest_and_ids_not_the_personal_data():
    key = new_agency_key("RS-BP")
    verifier = Verifier(KeyRegistry([key[1]]), clock=lambda: NOW)
    moment = NOW - timedelta(days=2)
    obj = envelope(
        "apprehension", time=moment, overrides={"wbxretainuntil": moment + timedelta(hours=1)}
    )
    raw = record(signed(obj, key))
    outcome = _run(raw, verifier, ReplayGuard({}, timedelta(days=31)))
    assert isinstance(outcome, Rejected)
    quarantined = outcome.record
    assert quarantined.reason == "retention_expired"
    assert quarantined.original_b64 is None
    assert quarantined.original_sha256 == hashlib.sha256(raw).hexdigest()
    assert (quarantined.event_id, quarantined.source) == (obj["id"], obj["source"])
    assert "AFG" not in quarantined.model_dump_json()


def test_clock_checks_are_judged_at_the_receipt_time_not_at_processing():
    key = new_agency_key("RS-BP")
    received = NOW
    obj = envelope(
        time=received - timedelta(days=30) + timedelta(seconds=1),
        overrides={"wbxretainuntil": received + timedelta(seconds=1)},
    )
    raw = record(signed(obj, key))
    late = Verifier(KeyRegistry([key[1]]), clock=lambda: NOW + timedelta(seconds=60))
    guard = ReplayGuard({}, timedelta(days=31))
    outcome = verify_record(
        raw, Position("i", 0, 0), late, guard, max_bytes=10_000, received_at=received
    )
    assert isinstance(outcome, Accepted)
    # The same record judged at the processing instant would be quarantined: the test bites.
    assert late.verify_bytes(raw).reason is Reason.TOO_OLD_OR_FUTURE


def test_receipt_time_is_the_record_timestamp_within_bounds():
    delay = timedelta(days=7)
    stamped = NOW - timedelta(seconds=60)
    assert receipt_time(stamped.timestamp(), NOW, delay) == stamped
    assert receipt_time((NOW + timedelta(hours=1)).timestamp(), NOW, delay) == NOW
    assert receipt_time((NOW - timedelta(days=30)).timestamp(), NOW, delay) == NOW - delay
    assert receipt_time(None, NOW, delay) == NOW
    assert receipt_time(-1.0, NOW, delay) == NOW
    assert receipt_time(1e300, NOW, delay) == NOW
    # Millisecond timestamps as faust hands them over (float seconds) come back exact.
    exact = datetime(2026, 11, 20, 11, 59, 0, 376_000, tzinfo=UTC)
    millis = round(exact.timestamp() * 1000)
    assert receipt_time(millis / 1000.0, exact + timedelta(hours=1), delay) == exact


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=2_000), key=st.none() | st.binary(max_size=600))
def test_arbitrary_bytes_and_keys_get_one_writable_outcome(raw, key):
    outcome = _run(raw, HOSTILE_VERIFIER, max_bytes=1_000, key=key)
    assert isinstance(outcome, Rejected)
    outcome.record.model_dump_json().encode("utf-8")


def test_a_bug_in_a_check_quarantines_the_record_instead_of_raising():
    class Broken(Verifier):
        def verify_bytes(self, raw, *, received_at=None):
            raise RuntimeError("boom")

    broken = Broken(KeyRegistry([]), clock=lambda: NOW)
    outcome = _run(b"{}", broken, ReplayGuard({}, timedelta(days=31)))
    assert isinstance(outcome, Rejected)
    assert outcome.record.reason == UNPROCESSABLE
    assert "RuntimeError" in outcome.record.detail


def test_a_record_reprocessed_after_a_restart_gets_the_same_verdict(agency_key):
    """The key is judged at the record's timestamp: a rotation in between changes nothing."""
    entry = agency_key[1]
    registry = KeyRegistry([entry])
    verifier = Verifier(registry, clock=lambda: NOW)
    appended = NOW - timedelta(hours=3)
    timestamp = appended.timestamp()  # faust's record timestamp: float seconds
    raw = record(signed(envelope(time=appended - timedelta(minutes=1)), agency_key))
    position = Position("wbx.ingest.v1", 0, 7)

    def verdict(now: datetime) -> Outcome:
        received_at = receipt_time(timestamp, now, timedelta(days=7))
        guard = ReplayGuard({}, timedelta(days=31))  # a restart: no memory of the first run
        return verify_record(raw, position, verifier, guard, max_bytes=100_000,
                             received_at=received_at)  # fmt: skip

    first = verdict(appended + timedelta(seconds=1))
    registry.retire(entry.kid, NOW - timedelta(hours=1))  # rotated after the record came in
    again = verdict(NOW + timedelta(days=2))  # replayed from the topic two days later
    assert isinstance(first, Accepted) and isinstance(again, Accepted)
    assert first.digest == again.digest
    registry.revoke(entry.kid, appended + timedelta(minutes=1))
    assert isinstance(verdict(NOW), Accepted)  # received before the revocation time
