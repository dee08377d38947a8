"""Protect stage: every event type leaves without raw personal data, driven by the marks."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field

import schemas.payloads as payloads_module
from consumers.protect import (
    Action,
    Policy,
    Protected,
    age_band,
    load_policy,
    open_shared,
    protect,
)
from consumers.pseudonyms import Pseudonymiser, normalise
from schemas.compose import compose_envelope
from schemas.derived import derived_id
from schemas.envelope import Envelope
from schemas.errors import ConfigurationError
from schemas.keys import new_key_pair
from schemas.payloads import PAYLOADS_BY_KIND, Apprehension, Person
from schemas.payloads.common import OptionalLocation
from schemas.personal import DataCategory, DataKind, mark_of, personal
from schemas.reference import load_reference
from schemas.settings import INFRA_DIR
from schemas.shredding import FileKeyStore, Shredder, is_sealed_value
from schemas.signing import sign_envelope
from schemas.vocab import AgeBand
from tests.factories import (
    CANARIES,
    CANARY,
    EVERY_TYPE,
    envelope,
    signed,
)
from tests.factories import CANARY_BIRTH as BIRTH
from tests.factories import CANARY_LAT as LAT
from tests.factories import CANARY_LON as LON

EVENT_TIME = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
NOW = EVENT_TIME + timedelta(minutes=5)
RETAIN_UNTIL = EVENT_TIME + timedelta(days=180)
DIGEST = "ab" * 32
SECRET = b"regional-secret-for-tests-0001"
SECTIONS = ("MK-RS", "BA-ME", "AL-ME")

POLICY = load_policy(INFRA_DIR / "policy.toml")
PSN = Pseudonymiser(SECRET, "k2026")
KEYS = {agency: new_key_pair(agency) for agency in ("RS-BP", "BA-BP", "ME-BP", "MK-BP")}


FORBIDDEN = [
    CANARY,
    *CANARIES,
    *(normalise(c) for c in CANARIES),
    BIRTH,
    BIRTH.replace("-", ""),
    str(LAT),
    str(LON),
    "42.98",
    "18.12",
]


def _signed(
    payload: dict[str, Any], kind: str, agency: str = "RS-BP", **attributes: Any
) -> Envelope:
    obj = envelope(
        kind,
        payload,
        agency,
        time=EVENT_TIME,
        event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{kind}|{agency}|{sorted(attributes)}")),
        # Explicit, or compose would count the sender's deadline from the wall clock.
        overrides={"wbxretainuntil": RETAIN_UNTIL, **attributes},
    )
    return Envelope.model_validate(signed(obj, KEYS[agency]))


def _protect(envelope: Envelope, view: str = "pcc_operator", **kwargs: Any) -> Protected:
    out = protect(envelope, DIGEST, kwargs.pop("policy", POLICY), PSN, view=view, now=NOW)
    assert out is not None
    return out


def _marked_paths(model: BaseModel, path: str = "") -> dict[str, DataKind]:
    """Every marked field holding a value, by JSON path (an independent walk for the tests)."""
    found: dict[str, DataKind] = {}
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        here = f"{path}.{name}" if path else name
        mark = mark_of(info)
        if mark is not None and value not in (None, []):
            found[here] = mark.kind
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            if isinstance(item, BaseModel):
                found |= _marked_paths(item, f"{here}[{i}]" if isinstance(value, list) else here)
    return found


def test_fixtures_cover_every_type_every_marked_field_and_known_sections() -> None:
    assert set(EVERY_TYPE) == set(PAYLOADS_BY_KIND)
    reference = load_reference(INFRA_DIR / "reference.toml")
    assert all(reference.section_known(s) for s in SECTIONS)
    for kind, data in EVERY_TYPE.items():
        model = PAYLOADS_BY_KIND[kind]
        payload = model.model_validate(data)
        marked = {n for n, f in model.model_fields.items() if mark_of(f) is not None}
        assert marked <= {p.split("[")[0].split(".")[0] for p in _marked_paths(payload)}, kind


@pytest.mark.parametrize("kind", sorted(EVERY_TYPE))
@pytest.mark.parametrize("view", ["pcc_operator", "analyst"])
def test_no_canary_leaves_in_any_type(kind: str, view: str) -> None:
    envelope = _signed(EVERY_TYPE[kind], kind)
    out = _protect(envelope, view)
    text = out.shared.model_dump_json()
    audit_text = out.audit.model_dump_json() if out.audit else ""
    for secret in FORBIDDEN:
        assert secret not in text, f"{kind}/{view}: {secret!r} leaked into the shared record"
        assert secret not in audit_text, f"{kind}/{view}: {secret!r} leaked into the audit"
    # The non-personal facts survive the filter.
    assert out.shared.border_section == EVERY_TYPE[kind]["border_section"]
    assert out.shared.kind == kind
    assert set(out.shared.data) >= {
        k for k, v in EVERY_TYPE[kind].items() if not isinstance(v, list | dict | str)
    }


@pytest.mark.parametrize("kind", sorted(EVERY_TYPE))
def test_audit_lists_exactly_the_released_fields(kind: str) -> None:
    envelope = _signed(EVERY_TYPE[kind], kind)
    out = _protect(envelope)
    expected_by_kind = {
        DataKind.DOCUMENT_NUMBER: "pseudonymise",
        DataKind.BIOMETRIC_REF: "pseudonymise",
        DataKind.PHONE: "pseudonymise",
        DataKind.VEHICLE_PLATE: "pseudonymise",
        DataKind.CASE_REFERENCE: "pseudonymise",
        DataKind.BIRTH_DATE: "generalise",
        DataKind.LOCATION: "generalise",
        DataKind.NATIONALITY: "keep",
        DataKind.SEX: "keep",
        DataKind.AGE_BAND: "keep",
        DataKind.VULNERABILITY: "keep",
    }
    expected = {
        path: expected_by_kind[mark]
        for path, mark in _marked_paths(envelope.payload).items()
        if mark in expected_by_kind
    }
    if not expected:
        assert out.audit is None  # nothing personal released, nothing to log
        return
    assert out.audit is not None
    assert out.audit.fields == expected
    assert out.audit.audit_id == derived_id("audit", envelope.source, envelope.id, "pcc_operator")
    assert out.audit.at == NOW
    assert out.audit.recipient == "view:pcc_operator"
    assert out.audit.purpose == envelope.wbxpurpose
    assert out.audit.handling == envelope.wbxhandling
    assert (out.audit.event_id, out.audit.source, out.audit.type) == (
        envelope.id,
        envelope.source,
        envelope.type,
    )
    # Every pseudonym the released record carries is on the audit record, so the DPO finds
    # this release by any of them (and no clear value is there).
    released = set(re.findall(r"psn:[A-Za-z0-9_-]+:[0-9a-f]{32}", out.shared.model_dump_json()))
    assert set(out.audit.pseudonyms) == released
    assert out.audit.pseudonyms == sorted(released)


def test_apprehension_pcc_view_in_detail() -> None:
    envelope = _signed(EVERY_TYPE["apprehension"], "apprehension", wbxincident=str(uuid.uuid4()))
    out = _protect(envelope)
    shared, data = out.shared, out.shared.data
    first = data["persons"][0]
    assert first == {
        "nationality": "AFG",
        "sex": "male",
        "age_band": "35-64",
        "child": False,
        "document_number": PSN.pseudonym(DataKind.DOCUMENT_NUMBER, f"{CANARY}-DOC-1"),
        "biometric_ref": PSN.pseudonym(DataKind.BIOMETRIC_REF, f"{CANARY}-BIO-1"),
        "phone": PSN.pseudonym(DataKind.PHONE, f"+381 {CANARY} 1"),
        "vulnerabilities": ["disability"],
    }
    # An explicit band wins over the one a birth date would give.
    assert data["persons"][1]["age_band"] == "18-34"
    assert data["persons"][1]["child"] is False
    assert data["location"] == {"lat": 43.0, "lon": 18.1, "grid_deg": 0.1}
    assert "notes" not in data
    assert (data["direction"], data["group_size"]) == ("entry", 3)
    assert shared.record_id == derived_id(envelope.source, envelope.id, "pcc_operator")
    assert (shared.view, shared.type, shared.family.value) == (
        "pcc_operator",
        "wbx.mixed_movement.apprehension",
        "mixed_movement",
    )
    assert (shared.agency, shared.participant.value, shared.pseudonym_key_id) == (
        "RS-BP",
        "RS",
        "k2026",
    )
    assert shared.time == EVENT_TIME
    assert shared.retain_until == envelope.wbxretainuntil
    assert (shared.handling, shared.purpose) == (envelope.wbxhandling, envelope.wbxpurpose)
    assert (shared.reliability, shared.accuracy, shared.impact) == (
        envelope.wbxreliability,
        envelope.wbxaccuracy,
        envelope.wbximpact,
    )
    assert shared.incident == envelope.wbxincident
    assert shared.closed is None
    assert shared.provenance.model_dump() == {
        "event_id": envelope.id,
        "source": "urn:wbx:agency:RS-BP",
        "digest": DIGEST,
    }


def test_analyst_view_keeps_only_what_statistics_need() -> None:
    out = _protect(_signed(EVERY_TYPE["migrant_smuggling"], "migrant_smuggling"), "analyst")
    data = out.shared.data
    assert data["facilitators"] == [
        {
            "nationality": "AFG",
            "sex": "male",
            "age_band": "35-64",
            "child": False,
            "vulnerabilities": ["disability"],
        }
    ]
    assert "vehicle_plate" not in data and "location" not in data and "notes" not in data
    assert "psn:" not in out.shared.model_dump_json()
    assert out.audit is not None
    assert out.audit.recipient == "view:analyst"
    assert "facilitators[0].document_number" not in out.audit.fields
    assert "location" not in out.audit.fields  # represented by the border section only


def test_protecting_twice_gives_identical_records() -> None:
    envelope = _signed(EVERY_TYPE["return"], "return")
    first, second = _protect(envelope), _protect(envelope)
    assert first.shared.model_dump_json() == second.shared.model_dump_json()
    assert first.audit == second.audit


def test_the_same_document_links_across_agencies_despite_spelling() -> None:
    person = {"nationality": "SYR", "sex": "female", "age_band": "18-34"}
    rs = _signed(
        {"border_section": "MK-RS", "persons": [{**person, "document_number": "AB 123-45"}]},
        "asylum_intention",
        "RS-BP",
    )
    mk = _signed(
        {"border_section": "MK-RS", "persons": [{**person, "document_number": "ab12345"}]},
        "asylum_intention",
        "MK-BP",
    )
    doc_rs = _protect(rs).shared.data["persons"][0]["document_number"]
    doc_mk = _protect(mk).shared.data["persons"][0]["document_number"]
    assert doc_rs == doc_mk
    assert doc_rs.startswith("psn:k2026:")


def test_a_plate_and_a_document_with_the_same_text_get_different_pseudonyms() -> None:
    smuggling = _signed(
        {"border_section": "BA-ME", "persons_smuggled": 2, "vehicle_plate": "PG 123 AB"},
        "migrant_smuggling",
        "ME-BP",
    )
    fraud = _signed(
        {
            "border_section": "BA-ME",
            "document_type": "passport",
            "fraud_type": "forged",
            "document_number": "PG 123 AB",
        },
        "document_fraud",
        "BA-BP",
    )
    plate = _protect(smuggling).shared.data["vehicle_plate"]
    document = _protect(fraud).shared.data["document_number"]
    assert plate.startswith("psn:") and document.startswith("psn:")
    assert plate != document


def test_another_key_id_gives_other_pseudonyms() -> None:
    envelope = _signed(EVERY_TYPE["document_fraud"], "document_fraud")
    rotated = Pseudonymiser(b"regional-secret-for-tests-0002", "k2027")
    old = _protect(envelope).shared
    new = protect(envelope, DIGEST, POLICY, rotated, now=NOW)
    assert new is not None
    assert new.shared.pseudonym_key_id == "k2027"
    assert new.shared.data["document_number"] != old.data["document_number"]
    assert new.shared.data["document_number"].startswith("psn:k2027:")


@pytest.mark.parametrize(
    ("born", "band", "child"),
    [
        ("2012-01-01", "14-17", True),  # the brief's example
        ("2012-11-20", "14-17", True),  # 14th birthday on the event day
        ("2012-11-21", "0-13", True),  # 14th birthday the day after
        ("2008-11-20", "18-34", False),  # 18th birthday on the event day
        ("2008-11-21", "14-17", True),  # one day short of 18
        ("1961-11-20", "65+", False),
        ("1961-11-21", "35-64", False),
        ("2026-11-20", "0-13", True),  # born that day
    ],
)
def test_birth_date_becomes_age_band_and_child_flag(born: str, band: str, child: bool) -> None:
    person = {"nationality": "AFG", "sex": "female", "birth_date": born}
    envelope = _signed(
        {"border_section": "MK-RS", "person": {**person, "vulnerabilities": ["uam"]}},
        "vulnerability_identified",
    )
    for view in ("pcc_operator", "analyst"):
        out = _protect(envelope, view)
        assert out.shared.data["person"]["age_band"] == band
        assert out.shared.data["person"]["child"] is child
        assert "birth_date" not in out.shared.data["person"]
        assert born not in str(out.shared.data)
        assert out.audit is not None
        assert out.audit.fields["person.birth_date"] == "generalise"
    assert age_band(date.fromisoformat(born), EVENT_TIME.date()).value == band


def test_age_band_on_a_leap_day_birthday() -> None:
    born = date(2008, 2, 29)
    assert age_band(born, date(2026, 2, 28)) is AgeBand.ADOLESCENT
    assert age_band(born, date(2026, 3, 1)) is AgeBand.YOUNG_ADULT


@pytest.mark.parametrize(("band", "child"), [("0-13", True), ("14-17", True), ("65+", False)])
def test_an_explicit_age_band_sets_the_child_flag(band: str, child: bool) -> None:
    person = {"nationality": "AFG", "sex": "male", "age_band": band}
    out = _protect(_signed({"border_section": "MK-RS", "persons": [person]}, "asylum_intention"))
    assert out.shared.data["persons"][0] == {**person, "child": child, "vulnerabilities": []}


def test_an_explicit_age_band_wins_over_the_birth_date() -> None:
    person = {"nationality": "AFG", "sex": "male", "birth_date": BIRTH, "age_band": "14-17"}
    out = _protect(_signed({"border_section": "MK-RS", "persons": [person]}, "asylum_intention"))
    protected = out.shared.data["persons"][0]
    assert (protected["age_band"], protected["child"]) == ("14-17", True)
    assert "birth_date" not in protected


def test_a_person_without_age_information_gets_no_child_flag() -> None:
    person = {"nationality": "AFG", "sex": "unknown"}
    out = _protect(_signed({"border_section": "MK-RS", "persons": [person]}, "asylum_intention"))
    assert "child" not in out.shared.data["persons"][0]
    assert "age_band" not in out.shared.data["persons"][0]


def test_past_its_retention_deadline_an_event_is_not_passed_on() -> None:
    envelope = _signed(EVERY_TYPE["apprehension"], "apprehension")
    deadline = envelope.wbxretainuntil
    assert deadline == RETAIN_UNTIL
    assert protect(envelope, DIGEST, POLICY, PSN, now=deadline) is None
    assert protect(envelope, DIGEST, POLICY, PSN, now=deadline + timedelta(days=1)) is None
    assert protect(envelope, DIGEST, POLICY, PSN, now=deadline - timedelta(seconds=1)) is not None


def test_a_purpose_the_view_does_not_serve_withholds_all_personal_data() -> None:
    envelope = _signed(EVERY_TYPE["apprehension"], "apprehension", wbxpurpose="asylum_procedure")
    out = _protect(envelope)  # pcc_operator does not serve asylum_procedure
    assert out.audit is None
    assert out.shared.purpose.value == "asylum_procedure"
    assert out.shared.data == {
        "border_section": "MK-RS",
        "direction": "entry",
        "group_size": 3,
        "persons": [{}, {}],
    }
    analyst = _protect(envelope, "analyst")  # the analyst view serves every purpose
    assert analyst.shared.data["persons"][0]["nationality"] == "AFG"


def test_an_unknown_view_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="no view 'auditor'"):
        protect(
            _signed(EVERY_TYPE["referral"], "referral"),
            DIGEST,
            POLICY,
            PSN,
            view="auditor",
            now=NOW,
        )


def test_section_mode_drops_coordinates_and_does_not_audit_them(tmp_path: Path) -> None:
    text = (INFRA_DIR / "policy.toml").read_text(encoding="utf-8")
    path = tmp_path / "policy.toml"
    path.write_text(text.replace('location_to = "grid"', 'location_to = "section"'), "utf-8")
    policy = load_policy(path)
    out = _protect(
        _signed(EVERY_TYPE["death_or_missing_person"], "death_or_missing_person"), policy=policy
    )
    assert "location" not in out.shared.data
    assert out.audit is None
    assert out.shared.border_section == "AL-ME"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad-policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = '[views.pcc_operator]\npurposes = ["protection"]\n'


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        (MINIMAL + '[views.pcc_operator.kinds]\nname = "shred"\n', "views.pcc_operator.kinds.name"),
        (MINIMAL + '[views.pcc_operator.kinds]\nshoe_size = "drop"\n', "shoe_size"),
        ('[defaults]\nfree_text = "redact"\n' + MINIMAL, "defaults.free_text"),
        ('[views.pcc_operator]\npurposes = ["gossip"]\n', "views.pcc_operator.purposes"),
        (MINIMAL + 'location_to = "village"\n', "views.pcc_operator.location_to"),
        ('[views.analyst]\npurposes = ["statistics"]\n', "pcc_operator"),
        ("[views.pcc_operator\n", "not valid TOML"),
    ],
)
def test_a_bad_policy_file_is_rejected_naming_file_and_entry(
    tmp_path: Path, text: str, entry: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigurationError) as caught:
        load_policy(path)
    assert str(path) in str(caught.value)
    assert entry in str(caught.value)


def test_a_missing_policy_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        load_policy(tmp_path / "absent.toml")


def test_the_shipped_policy_has_both_views_and_the_brief_defaults() -> None:
    assert set(POLICY.views) >= {"pcc_operator", "analyst"}
    assert POLICY.views["pcc_operator"].kinds[DataKind.NAME] is Action.DROP
    assert POLICY.views["pcc_operator"].grid_degrees == 0.1
    assert POLICY.defaults == {
        DataCategory.DIRECT_IDENTIFIER: Action.DROP,
        DataCategory.FREE_TEXT: Action.DROP,
        DataCategory.QUASI_IDENTIFIER: Action.GENERALISE,
        DataCategory.SPECIAL_CATEGORY: Action.KEEP,
    }
    analyst = POLICY.views["analyst"].kinds
    assert {k for k, a in analyst.items() if a is not Action.DROP} == {
        DataKind.BIRTH_DATE,
        DataKind.LOCATION,
        DataKind.NATIONALITY,
        DataKind.SEX,
        DataKind.AGE_BAND,
        DataKind.VULNERABILITY,
    }


# --- Schema-driven: a change to the marks is picked up without touching protect.py ---------


class TaggedPerson(Person):
    """A person with a new marked field, as a future schema version might add."""

    alias: str | None = personal(DataCategory.DIRECT_IDENTIFIER, DataKind.NAME)
    passport_photo: str | None = personal(DataCategory.DIRECT_IDENTIFIER, DataKind.BIOMETRIC_REF)


class ApprehensionV2(Apprehension):
    """An apprehension with new marked fields at the top level and inside persons."""

    persons: list[TaggedPerson] = Field(default_factory=list)  # type: ignore[assignment]
    radio_call_sign: str | None = personal(DataCategory.DIRECT_IDENTIFIER, DataKind.PHONE)
    last_seen: OptionalLocation = None
    guide_remarks: str | None = personal(DataCategory.FREE_TEXT, DataKind.NOTES)


@pytest.fixture
def v2_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(payloads_module.PAYLOAD_TYPES, Apprehension.event_type(), ApprehensionV2)


def _v2_envelope() -> Envelope:
    payload = ApprehensionV2(
        border_section="MK-RS",
        direction="entry",  # type: ignore[arg-type]
        group_size=1,
        persons=[
            TaggedPerson(
                nationality="IRQ",  # type: ignore[arg-type]
                sex="male",  # type: ignore[arg-type]
                alias=f"{CANARY}-ALIAS",
                passport_photo=f"{CANARY}-PHOTO",
            )
        ],
        radio_call_sign=f"{CANARY}-RADIO",
        last_seen={"lat": LAT, "lon": LON},  # type: ignore[arg-type]
        guide_remarks=f"{CANARY}-REMARKS",
    )
    body = compose_envelope(payload, "RS-BP", time=EVENT_TIME, event_id=str(uuid.uuid4()))
    private, entry = KEYS["RS-BP"]
    envelope = sign_envelope(body, private, entry.kid)
    assert isinstance(envelope.payload, ApprehensionV2)
    return envelope


@pytest.mark.usefixtures("v2_registered")
def test_new_marked_fields_are_protected_without_code_changes() -> None:
    out = _protect(_v2_envelope())
    text = out.shared.model_dump_json()
    assert CANARY not in text and str(LAT) not in text
    data = out.shared.data
    assert data["radio_call_sign"] == PSN.pseudonym(DataKind.PHONE, f"{CANARY}-RADIO")
    assert data["last_seen"] == {"lat": 43.0, "lon": 18.1, "grid_deg": 0.1}
    assert "guide_remarks" not in data
    assert "alias" not in data["persons"][0]
    assert data["persons"][0]["passport_photo"].startswith("psn:k2026:")
    assert out.audit is not None
    assert out.audit.fields == {
        "radio_call_sign": "pseudonymise",
        "last_seen": "generalise",
        "persons[0].passport_photo": "pseudonymise",
        "persons[0].nationality": "keep",
        "persons[0].sex": "keep",
    }


@pytest.mark.usefixtures("v2_registered")
def test_unlisted_kinds_fall_back_to_the_category_defaults(tmp_path: Path) -> None:
    # A view naming no kinds: every marked field is handled by its category alone.
    policy = load_policy(_write(tmp_path, '[views.pcc_operator]\npurposes = ["protection"]\n'))
    assert isinstance(policy, Policy)
    out = _protect(_v2_envelope(), policy=policy)
    data = out.shared.data
    assert "radio_call_sign" not in data and "guide_remarks" not in data  # direct / free text
    assert data["last_seen"] == {"lat": 43.0, "lon": 18.1, "grid_deg": 0.1}  # quasi: generalise
    assert data["persons"][0] == {"nationality": "IRQ", "sex": "male", "vulnerabilities": []}
    assert CANARY not in out.shared.model_dump_json()


@pytest.mark.parametrize("kind", sorted(EVERY_TYPE))
def test_with_a_shredder_identifiers_are_sealed_and_open_to_exactly_the_clear_view(
    kind: str, tmp_path: Path
) -> None:
    envelope = _signed(EVERY_TYPE[kind], kind)
    clear = _protect(envelope)
    shredder = Shredder(FileKeyStore(tmp_path))
    sealed = protect(envelope, DIGEST, POLICY, PSN, now=NOW, shredder=shredder)
    assert clear is not None and sealed is not None
    text = sealed.shared.model_dump_json()
    assert "psn:" not in text  # no pseudonym, name or note is readable on the topic
    for person in sealed.shared.persons(facilitators=True):
        for name, value in person.items():
            marked = name in ("nationality", "sex", "age_band", "child", "vulnerabilities")
            assert marked != is_sealed_value(value), name  # statistics' inputs stay clear
    assert sealed.audit == clear.audit  # the trail names the pseudonyms, as before
    opened = open_shared(sealed.shared, shredder, NOW)
    assert opened == clear.shared
    shredder.store.destroy_before(RETAIN_UNTIL.date() + timedelta(days=1))
    gone = open_shared(sealed.shared, shredder, NOW)
    assert "psn:" not in gone.model_dump_json()
    assert [p.get("nationality") for p in gone.persons()] == [
        p.get("nationality") for p in clear.shared.persons()
    ]
