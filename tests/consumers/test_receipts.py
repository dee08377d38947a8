"""Receipts stage: each judged record gets a receipt its sender can hold the platform to."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consumers.quarantine import Position
from consumers.receipts import ReceiptSigner, receipt_for
from consumers.verify import Outcome, ReplayGuard, verify_record
from schemas.keys import KeyRegistry, new_key_pair
from schemas.receipts import Receipt
from schemas.topics import receipts_topic
from schemas.verification import Verifier
from tests.factories import NOW, envelope, record, signed

SIGNER = ReceiptSigner(Ed25519PrivateKey.generate())
AGENCIES = {"RS-BP", "BA-BP"}


@pytest.fixture
def rs_key():
    return new_key_pair("RS-BP", valid_from=NOW - timedelta(days=365))


def _judge(raw: bytes, rs_key, guard: ReplayGuard | None = None, offset: int = 7) -> Outcome:
    verifier = Verifier(KeyRegistry([rs_key[1]]), clock=lambda: NOW)
    position = Position("wbx.ingest.v1", 2, offset)
    guard = guard or ReplayGuard({}, timedelta(days=31))
    return verify_record(raw, position, verifier, guard, max_bytes=100_000, received_at=NOW)


def _receipt(outcome: Outcome, raw: bytes, offset: int = 7) -> tuple[str, Receipt] | None:
    position = Position("wbx.ingest.v1", 2, offset)
    issued = NOW + timedelta(milliseconds=5)
    return receipt_for(outcome, raw, position, NOW, issued, SIGNER, AGENCIES)


def test_an_accepted_event_gets_a_signed_ok_receipt_on_its_agencys_topic(rs_key):
    wire = signed(envelope(), rs_key)
    raw = record(wire)
    addressed = _receipt(_judge(raw, rs_key), raw)
    assert addressed is not None
    topic, receipt = addressed
    assert topic == receipts_topic("RS-BP") and receipt.agency == "RS-BP"
    assert (receipt.verdict, receipt.event_id) == ("ok", wire["id"])
    assert receipt.record_sha256 == hashlib.sha256(raw).hexdigest()
    assert receipt.signature_sha256 == hashlib.sha256(wire["wbxsig"].encode()).hexdigest()
    assert (receipt.topic, receipt.partition, receipt.offset) == ("wbx.ingest.v1", 2, 7)
    assert receipt.signer == SIGNER.kid and receipt.signature_valid(SIGNER.private.public_key())
    assert not receipt.model_copy(update={"verdict": "bad_signature"}).signature_valid(
        SIGNER.private.public_key()
    )


def test_a_tampered_event_gets_a_bad_signature_receipt_naming_what_it_carried(rs_key):
    wire = signed(envelope(), rs_key)
    wire["data"] = {**wire["data"], "count": 99}  # altered after signing
    raw = record(wire)
    addressed = _receipt(_judge(raw, rs_key), raw)
    assert addressed is not None
    _, receipt = addressed
    assert (receipt.verdict, receipt.agency, receipt.event_id) == ("bad_signature", "RS-BP",
                                                                   wire["id"])  # fmt: skip
    assert receipt.detail and not receipt.accepted
    assert receipt.signature_sha256 == hashlib.sha256(wire["wbxsig"].encode()).hexdigest()
    assert receipt.signature_valid(SIGNER.private.public_key())


def test_a_replayed_event_gets_a_replay_receipt(rs_key):
    raw = record(signed(envelope(), rs_key))
    guard = ReplayGuard({}, timedelta(days=31))
    _judge(raw, rs_key, guard, offset=1)
    again = _judge(raw, rs_key, guard, offset=2)
    addressed = _receipt(again, raw, offset=2)
    assert addressed is not None and addressed[1].verdict == "replay" and addressed[1].accepted


def test_records_that_name_no_known_agency_get_no_receipt(rs_key):
    garbage = b"\xff not json"
    assert _receipt(_judge(garbage, rs_key), garbage) is None
    me_key = new_key_pair("ME-BP", valid_from=NOW - timedelta(days=9))
    stranger = signed(envelope(agency="ME-BP"), me_key)
    raw = record(stranger)  # a valid agency id, but not one with a receipts topic here
    assert json.loads(raw)["source"].endswith("ME-BP")
    assert _receipt(_judge(raw, rs_key), raw) is None


def test_hostile_records_never_make_the_receipt_fail(rs_key):
    deep = b'{"source": "urn:wbx:agency:RS-BP", "id": "x", "a": ' + b"[" * 50_000
    deep += b"]" * 50_000 + b"}"
    surrogate = b'{"source": "urn:wbx:agency:RS-BP", "id": "ab\\ud800c", "wbxsig": "x"}'
    long_id = json.dumps({"source": "urn:wbx:agency:RS-BP", "id": "i" * 5000}).encode()
    for raw in (deep, surrogate, long_id):
        addressed = _receipt(_judge(raw, rs_key), raw)
        if addressed is not None:
            receipt = addressed[1]
            assert Receipt.model_validate_json(receipt.model_dump_json()) == receipt
            assert receipt.event_id is None or len(receipt.event_id) <= 201
    addressed = _receipt(_judge(long_id, rs_key), long_id)
    assert addressed is not None and addressed[1].verdict == "malformed"
