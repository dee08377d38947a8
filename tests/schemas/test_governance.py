"""Schema export and the compatibility check (BACKWARD_TRANSITIVE in spirit)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from schemas.governance import ENVELOPE_FILE, check_compatibility, export_schemas
from schemas.payloads import PAYLOAD_TYPES


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, Path]:
    old = tmp_path / "old"
    export_schemas(old)
    new = tmp_path / "new"
    shutil.copytree(old, new)
    return old, new


def _edit(path: Path, change) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def test_export_writes_one_valid_draft_2020_12_schema_per_type_plus_the_envelope(tmp_path):
    written = export_schemas(tmp_path)
    assert len(written) == len(PAYLOAD_TYPES) + 1
    assert (tmp_path / ENVELOPE_FILE).exists()
    for path in written:
        document = json.loads(path.read_text())
        assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(document)


def test_exported_payload_schema_accepts_a_valid_payload_and_rejects_a_bad_one(tmp_path):
    export_schemas(tmp_path)
    document = json.loads(
        (tmp_path / "wbx.border_incident.death_or_missing_person.v1.json").read_text()
    )
    validator = jsonschema.Draft202012Validator(document)
    assert validator.is_valid({"border_section": "BA-ME", "count": 2})
    assert not validator.is_valid({"border_section": "BA-ME", "count": 0})
    assert not validator.is_valid({"border_section": "BA-ME", "count": 1, "extra": True})


def test_identical_exports_are_compatible(exported):
    assert check_compatibility(*exported) == []


def test_adding_an_optional_field_is_compatible(exported):
    old, new = exported
    _edit(
        new / "wbx.border_incident.death_or_missing_person.v1.json",
        lambda d: d["properties"].__setitem__("weather", {"type": "string"}),
    )
    assert check_compatibility(old, new) == []


def test_removed_field_is_breaking_and_named(exported):
    old, new = exported
    _edit(
        new / "wbx.border_incident.death_or_missing_person.v1.json",
        lambda d: d["properties"].pop("count"),
    )
    problems = check_compatibility(old, new)
    assert [(p.path, p.why) for p in problems] == [("count", "field removed")]


def test_retyped_nested_field_is_breaking_and_names_its_path(exported):
    old, new = exported

    def sex_as_integer(d):
        d["$defs"]["Person"]["properties"]["sex"] = {"type": "integer"}

    _edit(new / "wbx.mixed_movement.apprehension.v1.json", sex_as_integer)
    problems = check_compatibility(old, new)
    assert any(p.path == "persons[].sex" and "type changed" in p.why for p in problems), problems


def test_new_required_field_is_breaking(exported):
    old, new = exported

    def require_weather(d):
        d["properties"]["weather"] = {"type": "string"}
        d["required"].append("weather")

    _edit(new / "wbx.border_incident.death_or_missing_person.v1.json", require_weather)
    problems = check_compatibility(old, new)
    assert [(p.path, p.why) for p in problems] == [("weather", "new required field")]


def test_removed_enum_value_and_removed_schema_are_breaking(exported):
    old, new = exported
    _edit(
        new / "wbx.mixed_movement.apprehension.v1.json",
        lambda d: d["$defs"]["Vulnerability"]["enum"].remove("vot"),
    )
    (new / "wbx.border_incident.protection_concern.v1.json").unlink()
    problems = {str(p) for p in check_compatibility(old, new)}
    assert any("vot" in p and "enum value(s) removed" in p for p in problems), problems
    assert "wbx.border_incident.protection_concern.v1.json: <schema>: schema removed" in problems


def test_widening_integer_to_number_is_compatible(exported):
    old, new = exported
    _edit(
        new / "wbx.border_incident.death_or_missing_person.v1.json",
        lambda d: d["properties"]["count"].update({"type": "number"}),
    )
    assert check_compatibility(old, new) == []
