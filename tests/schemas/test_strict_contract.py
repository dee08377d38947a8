"""The strict wire contract: exactly I-JSON in UTF-8, and models that agree with the schemas."""

from __future__ import annotations

import contextlib
import json
import math
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker
from pydantic import ValidationError

from producers.simulate import SimKeys, Simulator
from schemas import strict_json
from schemas.envelope import Envelope
from schemas.governance import envelope_schema, payload_schema
from schemas.json_types import parse_rfc3339
from schemas.keys import KeyRegistry
from schemas.payloads import PAYLOAD_TYPES
from schemas.payloads.common import check_section_id
from schemas.verification import Reason, Verifier
from tests.factories import NOW, SAMPLE_DATA, agency_key, envelope, record, signed

# --- the reader -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"\xef\xbb\xbf{}", "byte order mark"),
        ('{"a": 1}'.encode("utf-16"), "UTF-16"),
        ('{"a": 1}'.encode("utf-16-be"), "UTF-16"),
        ('{"a": 1}'.encode("utf-32"), "UTF-32"),
        (b'{"a": "\xff"}', "not UTF-8: byte 0xff at offset 7"),
        (b'{"a": "\xed\xa0\x80"}', "not UTF-8"),  # an encoded surrogate
        (b'{"a": 1, "a": 2}', "'a' appears twice"),
        (b'{"b": [{"c": {"a": 1, "a": 1}}]}', "'a' appears twice"),
        (b'["\\ud800"]', "lone surrogate (U+D800)"),
        (b'{"\\udfffx": 1}', "lone surrogate (U+DFFF)"),
        (b'["\\ud83dx"]', "lone surrogate (U+D83D)"),
        (str(2**53).encode(), "outside ±(2^53 - 1)"),
        (str(-(2**53)).encode(), "outside ±(2^53 - 1)"),
        (b"1" * 4_301, "outside ±(2^53 - 1)"),
        (b"1e999", "beyond the range of an IEEE 754 double"),
        (b"-1e309", "beyond the range of an IEEE 754 double"),
        (b"NaN", "NaN"),
        (b"[Infinity]", "Infinity"),
        (b"[" * 33 + b"]" * 33, "nested more than 32 levels deep"),
        (b"[" * 200_000 + b"]" * 200_000, "nested more than 32 levels deep"),
        (b'{"a": ', "not JSON: Expecting value at line 1 column 7"),
        (b"", "not JSON"),
    ],
)
def test_reader_refuses_what_is_not_i_json_and_says_what_and_where(raw, needle):
    with pytest.raises(strict_json.NotIJsonError) as caught:
        strict_json.loads(raw)
    assert needle in str(caught.value)


@pytest.mark.parametrize(
    "raw",
    [
        str(2**53 - 1).encode(),
        str(-(2**53 - 1)).encode(),
        b"1.0",
        b"1e308",
        b'["\\ud83d\\ude00"]',  # a proper surrogate pair is one character
        "[\U0001f600, \u202e]".replace("\U0001f600", '"\U0001f600"')
        .replace("\u202e", '"\u202e"')
        .encode(),
        b'"a\\u0000b"',  # an escaped NUL inside a string is I-JSON
        b"[" * 32 + b"]" * 32,
        b'"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["',  # brackets inside a string are not depth
    ],
)
def test_reader_accepts_every_i_json_edge(raw):
    strict_json.loads(raw)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-strict_json.MAX_SAFE_INTEGER, strict_json.MAX_SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=["Cs"]), max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(st.characters(exclude_categories=["Cs"]), max_size=8), children)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_reader_reads_back_every_i_json_value(value):
    text = json.dumps(value, ensure_ascii=False)
    if text.count("[") + text.count("{") <= strict_json.MAX_DEPTH:
        assert strict_json.loads(text.encode("utf-8")) == value


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=100).map(lambda t: t.encode("utf-8", "replace")))
def test_reader_raises_only_its_own_error_for_any_bytes(raw):
    with contextlib.suppress(strict_json.NotIJsonError):
        strict_json.loads(raw)


# --- the verifier never raises ---------------------------------------------------------------

KEY = agency_key("RS-BP")
VERIFIER = Verifier(KeyRegistry([KEY[1]]), clock=lambda: NOW)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_verifier_gives_any_bytes_a_verdict_without_raising(raw):
    assert VERIFIER.verify_bytes(raw).reason in set(Reason)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_VALUES, st.sampled_from(["source", "time", "wbxkeyid", "wbxsig", "data", "id"]))
def test_verifier_gives_any_json_a_verdict_without_raising(value, name):
    assert VERIFIER.verify_object(value).reason in set(Reason)
    # The same value inside an otherwise signed envelope, where more checks get to run.
    obj = signed(envelope(), KEY)
    obj[name] = value
    assert VERIFIER.verify_object(obj).reason in set(Reason)
    assert VERIFIER.verify_bytes(record(obj)).reason in set(Reason)


# --- duplicate member names anywhere ---------------------------------------------------------


def _children(value: Any) -> Any:
    if isinstance(value, dict):
        return value.items()
    return enumerate(value) if isinstance(value, list) else ()


def _paths(value: Any, path: tuple[Any, ...] = (), *, objects: bool = False) -> list[Any]:
    """Every path below `value` (with `objects`, the paths of its non-empty objects, root too)."""
    if objects:
        found = [path] if isinstance(value, dict) and value else []
    else:
        found = [path] if path else []
    for key, child in _children(value):
        found.extend(_paths(child, (*path, key), objects=objects))
    return found


def _dumps_with_duplicate(value: Any, target: tuple[Any, ...] | None, extra: Any) -> str:
    """JSON text of `value` in which the object at path `target` ends with member `extra`."""

    def on_path(step: Any) -> tuple[Any, ...] | None:
        return target[1:] if target and target[0] == step else None

    if isinstance(value, dict):
        parts = [
            f"{json.dumps(k)}:{_dumps_with_duplicate(v, on_path(k), extra)}"
            for k, v in value.items()
        ]
        if target == ():
            name, copy = extra
            parts.append(f"{json.dumps(name)}:{json.dumps(copy)}")
        return "{" + ",".join(parts) + "}"
    if isinstance(value, list):
        items = [_dumps_with_duplicate(v, on_path(i), extra) for i, v in enumerate(value)]
        return "[" + ",".join(items) + "]"
    return json.dumps(value)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["apprehension", "irregular_crossing_attempt", "reception_status"]),
    where=st.integers(0, 1_000),
    member=st.integers(0, 1_000),
    same_value=st.booleans(),
)
def test_a_duplicate_member_anywhere_in_a_signed_envelope_is_malformed(
    kind, where, member, same_value
):
    obj = signed(envelope(kind), KEY)
    targets = _paths(obj, objects=True)
    target = targets[where % len(targets)]
    holder: Any = obj
    for step in target:
        holder = holder[step]
    name = list(holder)[member % len(holder)]
    copy = holder[name] if same_value else "urn:wbx:agency:AL-BP"
    text = _dumps_with_duplicate(obj, target, (name, copy))
    assert json.loads(text) is not None  # still JSON, just not I-JSON
    verdict = VERIFIER.verify_bytes(text.encode("utf-8"))
    assert verdict.reason is Reason.MALFORMED, (target, name)
    assert "appears twice" in verdict.detail


def test_the_reported_second_source_attack_is_refused():
    obj = signed(envelope(agency="RS-BP"), KEY)
    text = json.dumps(obj)[:-1] + ', "source": "urn:wbx:agency:AL-BP"}'
    verdict = VERIFIER.verify_bytes(text.encode())
    assert verdict.reason is Reason.MALFORMED
    assert "'source' appears twice" in verdict.detail


# --- models and exported schemas agree -------------------------------------------------------

CHECKER = FormatChecker()
ENVELOPE_SCHEMA = Draft202012Validator(envelope_schema(), format_checker=CHECKER)
PAYLOAD_SCHEMAS = {
    model.dataschema(): Draft202012Validator(payload_schema(model), format_checker=CHECKER)
    for model in PAYLOAD_TYPES.values()
}
TYPE_OF_SCHEMA = {model.dataschema(): name for name, model in PAYLOAD_TYPES.items()}


def _corpus() -> list[dict[str, Any]]:
    """Valid signed-shape envelopes of every type, from the simulator (no bad records)."""
    with tempfile.TemporaryDirectory() as folder:
        keys = SimKeys.load_or_create(Path(folder))
        simulator = Simulator(3, NOW - timedelta(days=3), keys, bad_share=0.0)
        documents = [json.loads(r.value) for r in simulator.records(count=1500)]
    documents += [signed(envelope(kind), KEY) for kind in SAMPLE_DATA]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for document in documents:
        by_type.setdefault(document["type"], []).append(document)
    missing = set(PAYLOAD_TYPES) - set(by_type)
    assert not missing, f"the corpus must cover every type; missing {missing}"
    return [d for group in by_type.values() for d in group[:12]]


CORPUS = _corpus()


def _model_accepts(document: Any) -> bool:
    try:
        Envelope.model_validate(document)
    except ValidationError:
        return False
    return True


def test_the_schema_names_every_rule_the_oracle_below_checks():
    exported = {rule["id"] for rule in envelope_schema()["x-wbx-rules"]}
    assert exported == {
        "type-dataschema",
        "subject-section",
        "section-order",
        "retention-after-time",
        "closed-needs-incident",
        "persons-within-group",
    }


def _cross_field_rules_hold(document: dict[str, Any]) -> bool:
    """The documented rules a JSON Schema cannot state (docs/contract.md, `x-wbx-rules`)."""
    data = document["data"]
    schema_of_type = PAYLOAD_TYPES[document["type"]].dataschema()
    try:
        check_section_id(data["border_section"])
    except ValueError:
        return False
    # CloudEvents: an attribute that is null counts as absent.
    closed_ok = document.get("wbxclosed") is None or document.get("wbxincident") is not None
    group_ok = len(data.get("persons", [])) <= data.get("group_size", math.inf)
    return (
        document["dataschema"] == schema_of_type
        and document["subject"] == data["border_section"]
        and parse_rfc3339(document["wbxretainuntil"]) > parse_rfc3339(document["time"])
        and closed_ok
        and group_ok
    )


def _schemas_accept(document: Any) -> bool:
    """What a consumer in another language concludes from the exported schemas alone."""
    if not ENVELOPE_SCHEMA.is_valid(document):
        return False
    validator = PAYLOAD_SCHEMAS.get(document["dataschema"])
    if validator is None or document["type"] not in PAYLOAD_TYPES:
        return False
    return validator.is_valid(document["data"]) and _cross_field_rules_hold(document)


def test_the_corpus_is_valid_for_both():
    for document in CORPUS:
        assert _model_accepts(document) and _schemas_accept(document), document["type"]


CONFUSABLE = (
    st.sampled_from(
        [
            "5",
            "yes",
            "true",
            "2",
            "1.5",
            "",
            "AFG",
            "MK-RS",
            "RS-MK",
            "male",
            "H2",
            "low",
            "2026-11-20",
            "2026-11-20T10:00:00Z",
            "2026-11-20T10:00:00",
            "2026-02-30T10:00:00Z",
            "2026-11-20t10:00:00z",
            "2026-11-20 10:00:00Z",
            "2026-11-20T10:00:00.123456789+01:00",
            "2009-03-01",
            "2009-3-1",
            "urn:wbx:agency:RS-BP",
            0,
            1,
            2,
            -1,
            5,
            1.0,
            2.0,
            5.5,
            1e20,
            42.5,
            10_001,
            True,
            False,
            None,
            [],
            {},
            ["uam"],
            [1],
            {"lat": 1, "lon": 2},
        ]
    )
    | JSON_VALUES
)


@settings(max_examples=1_500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from(CORPUS),
    where=st.integers(0, 10_000),
    action=st.sampled_from(["replace", "replace", "replace", "delete", "add"]),
    value=CONFUSABLE,
    name=st.sampled_from(["extra", "notes", "location", "wbxincident", "wbxclosed", "persons"]),
)
def test_models_and_exported_schemas_give_the_same_verdict(base, where, action, value, name):
    document = json.loads(json.dumps(base))
    paths = _paths(document)
    path = paths[where % len(paths)]
    holder: Any = document
    for step in path[:-1]:
        holder = holder[step]
    last = path[-1]
    if action == "replace":
        holder[last] = value
    elif action == "delete":
        del holder[last]
    elif isinstance(holder, dict):
        holder[name] = value
    else:
        holder.append(value)
    model = _model_accepts(document)
    assert model == _schemas_accept(document), (path, action, value, model)


@pytest.mark.parametrize(
    ("path", "wrong"),
    [
        (("data", "prevented"), "yes"),
        (("data", "prevented"), 1),
        (("data", "group_size"), "5"),
        (("data", "group_size"), True),
        (("data", "location", "lat"), "42"),
        (("wbxaccuracy",), "2"),
        (("wbxaccuracy",), True),
        (("wbxclosed",), 1),
        (("time",), 1_700_000_000),
        (("data", "count"), True),
    ],
)
def test_the_reported_coercions_are_schema_invalid(path, wrong):
    kind = "death_or_missing_person" if path[-1] == "count" else "irregular_crossing_attempt"
    obj = envelope(kind, overrides={"wbxincident": envelope()["id"]})
    holder: Any = obj
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = wrong
    assert not _model_accepts({**obj, "wbxkeyid": "k", "wbxsig": "A" * 86})
    assert not _schemas_accept({**obj, "wbxkeyid": "k", "wbxsig": "A" * 86})


def test_an_integral_float_is_an_integer_for_both_and_signs_the_same():
    obj = envelope("death_or_missing_person")
    obj["data"]["count"] = 1.0
    document = signed(obj, KEY)
    assert _model_accepts(document) and _schemas_accept(document)
    assert VERIFIER.verify_bytes(record(document)).ok
    # RFC 8785 writes 1.0 as 1, so the integer form verifies with the same signature.
    as_int = json.loads(json.dumps(document).replace('"count": 1.0', '"count": 1'))
    assert VERIFIER.verify_bytes(record(as_int)).ok


def test_time_must_be_a_real_calendar_instant_for_both():
    obj = envelope()
    obj["time"] = "2026-02-30T10:00:00Z"
    document = {**obj, "wbxkeyid": "k", "wbxsig": "A" * 86}
    assert not _model_accepts(document)
    assert not _schemas_accept(document)


def test_no_float_is_nan_after_reading():
    assert not any(
        isinstance(v, float) and math.isnan(v) for v in strict_json.loads(b"[1.5, 0.0, -0.0]")
    )


def test_parse_rfc3339_keeps_the_offset_and_microseconds():
    moment = parse_rfc3339("2026-11-20t10:00:00.1234567+01:00")
    assert moment == datetime(2026, 11, 20, 9, 0, 0, 123456, tzinfo=UTC)
