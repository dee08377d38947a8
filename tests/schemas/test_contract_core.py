"""The wire contract's core promises: every type, every verdict, RFC 8785, keys, SDK interop."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.canonical import canonical_json
from schemas.envelope import CONTENT_TYPE, Envelope
from schemas.keys import KeyRegistry, new_key_pair
from schemas.payloads import PAYLOADS_BY_KIND
from schemas.reference import load_reference
from schemas.settings import ContractSettings
from schemas.signing import sign_wire
from schemas.verification import Reason, Verifier
from tests.factories import envelope, signed
from tests.integration.test_pipeline import EVERY_TYPE

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
EARLY = NOW - timedelta(days=400)


@pytest.fixture(scope="module")
def keys():
    return {agency: new_key_pair(agency, valid_from=EARLY) for agency in ("RS-BP", "ME-BP")}


def _verifier(*entries, clock=NOW):
    return Verifier(
        KeyRegistry(list(entries)),
        load_reference(ContractSettings().reference_file),
        clock=lambda: clock,
    )


def _signed(
    keys,
    kind="death_or_missing_person",
    agency="RS-BP",
    *,
    time=NOW - timedelta(hours=1),
    data=None,
    overrides=None,
    key_of=None,
):
    data = data or {"border_section": "MK-RS", "count": 1}
    return signed(
        envelope(kind, data, agency, time=time, overrides=overrides), keys[key_of or agency]
    )


# --- RFC 8785 vectors (RFC 8785 section 3.2.2 example and appendix B numbers) --------------


def test_rfc8785_sorting_and_escaping_example():
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": '\u20ac$\u000f\nA\'B"\\\\"/',
        "literals": [None, True, False],
    }
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(value).decode() == expected


def test_rfc8785_property_order_by_utf16_code_units():
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    keys = list(json.loads(canonical_json(value)))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1e21, "1e+21"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (123456789012345680000.0, "123456789012345680000"),
        (9007199254740992.0, "9007199254740992"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
    ],
)
def test_rfc8785_number_serialisation(number, text):
    assert canonical_json(number).decode() == text


# --- every event type, every verdict -------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(PAYLOADS_BY_KIND))
def test_every_type_signs_and_verifies_and_rejects_a_broken_payload(keys, kind):
    data = {**EVERY_TYPE[kind], "border_section": "MK-RS"}
    signed = _signed(keys, kind, data=data)
    assert _verifier(keys["RS-BP"][1]).verify_object(signed).reason is Reason.OK
    broken = dict(signed, data={**signed["data"], "unexpected_field": 1})
    private, entry = keys["RS-BP"]
    verdict = _verifier(entry).verify_object(sign_wire(broken, private, entry.kid))
    assert verdict.reason is Reason.SCHEMA_INVALID and "unexpected_field" in verdict.detail


def test_every_reason_code(keys):
    private, entry = keys["RS-BP"]
    ok = _signed(keys)
    cases = {
        Reason.OK: (ok, [entry]),
        Reason.MALFORMED: ({"source": 1}, [entry]),
        Reason.UNKNOWN_KEY: (ok, []),
        Reason.SOURCE_MISMATCH: (_signed(keys, key_of="ME-BP"), [keys["ME-BP"][1]]),
        Reason.REVOKED_KEY: (ok, [entry.model_copy(update={"revoked": True, "revoked_at": NOW})]),
        Reason.KEY_NOT_VALID_AT_TIME: (
            ok,
            [entry.model_copy(update={"valid_until": NOW - timedelta(days=1)})],
        ),
        Reason.BAD_SIGNATURE: ({**ok, "wbximpact": "low"}, [entry]),
        Reason.SCHEMA_INVALID: (sign_wire({**ok, "subject": "BA-ME"}, private, entry.kid), [entry]),
        Reason.TOO_OLD_OR_FUTURE: (_signed(keys, time=NOW + timedelta(hours=1)), [entry]),
        Reason.RETENTION_EXPIRED: (
            _signed(
                keys,
                time=NOW - timedelta(days=2),
                overrides={"wbxretainuntil": NOW - timedelta(days=1)},
            ),
            [entry],
        ),
    }
    for reason, (record, entries) in cases.items():
        assert _verifier(*entries).verify_object(record).reason is reason, reason
    assert _verifier(entry).verify_bytes(b"\xff not json").reason is Reason.MALFORMED


def test_a_key_made_now_signs_an_event_dated_three_days_ago(keys):
    private, made_now = new_key_pair("RS-BP", valid_from=NOW)
    backfill = _signed({"RS-BP": (private, made_now)}, time=NOW - timedelta(days=3))
    verifier = Verifier(KeyRegistry([made_now]), clock=lambda: NOW)
    assert verifier.verify_object(backfill).reason is Reason.OK
    # ...received a moment after the key was made, on a machine whose clock is behind:
    assert verifier.verify_object(backfill, received_at=NOW - timedelta(seconds=1)).ok
    # ...but not received before the key existed (beyond the clock skew).
    early = verifier.verify_object(backfill, received_at=NOW - timedelta(hours=1))
    assert early.reason is Reason.KEY_NOT_VALID_AT_TIME and "received at" in early.detail


def test_a_retired_key_verifies_only_what_was_received_before_its_end_plus_grace(keys):
    old_private, old = new_key_pair("RS-BP", valid_from=EARLY)
    registry = KeyRegistry([old])
    retired_at = NOW - timedelta(days=10)
    registry.retire(old.kid, retired_at)
    verifier = Verifier(registry, key_grace=timedelta(minutes=5), clock=lambda: NOW)
    # Dated inside the key's window, as a forger holding the retired key would date it:
    forged = _signed({"RS-BP": (old_private, old)}, time=retired_at - timedelta(days=1))
    assert verifier.verify_object(forged).reason is Reason.KEY_NOT_VALID_AT_TIME
    in_flight = retired_at + timedelta(minutes=4)
    assert verifier.verify_object(forged, received_at=in_flight).ok
    assert not verifier.verify_object(forged, received_at=retired_at + timedelta(minutes=5)).ok


def test_a_revocation_covers_what_is_received_from_its_time_on(keys):
    entry = keys["RS-BP"][1]
    registry = KeyRegistry([entry])
    verifier = Verifier(registry, clock=lambda: NOW)
    event = _signed(keys, time=NOW - timedelta(hours=2))
    registry.revoke(entry.kid, NOW - timedelta(hours=1))
    before = verifier.verify_object(event, received_at=NOW - timedelta(hours=1, seconds=1))
    assert before.ok  # received before the compromise was declared: re-verifies the same
    after = verifier.verify_object(event, received_at=NOW - timedelta(hours=1))
    assert after.reason is Reason.REVOKED_KEY and "received at" in after.detail


def test_the_verdict_depends_on_the_receipt_time_not_on_when_it_is_verified(keys):
    entry = keys["RS-BP"][1]
    registry = KeyRegistry([entry])
    received = NOW - timedelta(days=2)
    event = _signed(keys, time=received - timedelta(minutes=1))
    first = Verifier(registry, clock=lambda: received).verify_object(event, received_at=received)
    registry.retire(entry.kid, NOW - timedelta(days=1))  # a rotation since
    later = Verifier(registry, clock=lambda: NOW).verify_object(event, received_at=received)
    assert first.ok and later.ok and first.digest == later.digest


# --- any change to any signed byte is rejected ----------------------------------------------


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_any_change_to_any_byte_is_rejected(keys, data):
    raw = json.dumps(_signed(keys, time=NOW - timedelta(hours=1))).encode()
    index = data.draw(st.integers(0, len(raw) - 1))
    replacement = data.draw(st.integers(0, 255).filter(lambda b: b != raw[index]))
    tampered = raw[:index] + bytes([replacement]) + raw[index + 1 :]
    verdict = _verifier(keys["RS-BP"][1]).verify_bytes(tampered)
    if verdict.ok:
        # Only a change that leaves the JSON value identical can pass (e.g. whitespace).
        assert json.loads(tampered) == json.loads(raw)
    else:
        assert verdict.reason is not Reason.OK


@settings(max_examples=100, deadline=None)
@given(seed=st.randoms(use_true_random=False))
def test_member_order_and_whitespace_do_not_matter(keys, seed):
    signed = _signed(keys)
    items = list(signed.items())
    seed.shuffle(items)
    raw = json.dumps(dict(items), indent=seed.choice([None, 1, 4])).encode()
    assert _verifier(keys["RS-BP"][1]).verify_bytes(raw).ok


# --- the official CloudEvents SDK reads our records ----------------------------------------


def test_signed_envelope_is_a_structured_mode_cloudevent_for_the_sdk(keys):
    from cloudevents.v1.kafka.conversion import KafkaMessage, from_structured

    signed = _signed(keys)
    message = KafkaMessage(
        headers={"content-type": CONTENT_TYPE.encode()},
        key=b"MK-RS",
        value=json.dumps(signed).encode(),
    )
    event = from_structured(message)
    assert event["id"] == signed["id"] and event["source"] == signed["source"]
    assert event["type"] == "wbx.border_incident.death_or_missing_person"
    assert event["wbxsig"] == signed["wbxsig"] and event["wbxaccuracy"] == signed["wbxaccuracy"]
    assert event.data == signed["data"]
    assert Envelope.model_validate(signed).payload.border_section == "MK-RS"
