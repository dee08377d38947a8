"""CSV import: rows to events, per-line errors, deterministic ids, local time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from producers.csv_import import load_mapping, read_csv
from schemas.errors import ConfigurationError
from schemas.settings import INFRA_DIR

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "csv" / "apprehension.csv"
APPREHENSION = load_mapping(INFRA_DIR / "csv" / "apprehension.toml")


def test_persons_of_one_incident_become_one_apprehension_in_utc():
    result = read_csv(FIXTURE.read_text(), APPREHENSION, "RS-BP")
    assert result.rows == 4 and len(result.events) == 2
    first = result.events[0]
    assert first.payload.group_size == 2 and len(first.payload.persons) == 2
    assert first.payload.persons[0].vulnerabilities[0].value == "uam"
    assert first.time.astimezone(UTC) == datetime(2026, 11, 20, 2, 10, tzinfo=UTC)


def test_bad_rows_are_reported_by_line_and_column():
    result = read_csv(FIXTURE.read_text(), APPREHENSION, "RS-BP")
    assert result.errors == [
        "line 5: column direction: 'sideways' is not one of "
        "['entry', 'exit', 'inland', 'izlaz', 'ulaz']"
    ]


def test_schema_violation_names_the_lines_of_the_group():
    text = (
        "incident_ref,date_time,section,direction,nationality,sex\n"
        "B-1,20.11.2026 03:10,RS-MK,entry,AFG,M\n"
    )
    result = read_csv(text, APPREHENSION, "RS-BP")
    assert len(result.errors) == 1 and result.errors[0].startswith("line 2: border_section")


def test_same_file_twice_gives_the_same_event_ids_and_bom_is_ignored():
    first = read_csv(FIXTURE.read_text(), APPREHENSION, "RS-BP")
    again = read_csv("\ufeff" + FIXTURE.read_text().replace(";", ","), APPREHENSION, "RS-BP")
    assert [e.id for e in first.events] == [e.id for e in again.events]
    assert [e.id for e in read_csv(FIXTURE.read_text(), APPREHENSION, "ME-BP").events] != [
        e.id for e in first.events
    ]


def test_incident_rows_with_numbers_and_value_maps():
    mapping = load_mapping(INFRA_DIR / "csv" / "death_or_missing_person.toml")
    text = (
        "date_time,section,count,status\n"
        "20.11.2026 03:10,AL-ME,2,missing\n"
        "20.11.2026 03:10,AL-ME,two,dead\n"
    )
    result = read_csv(text, mapping, "ME-BP")
    assert [(e.payload.count, e.payload.status.value) for e in result.events] == [(2, "missing")]
    assert result.errors == ["line 3: column count: 'two' is not a whole number"]


def test_a_bad_mapping_file_names_itself(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text('type = "apprehension"\nrow = "person"\n[time]\ncolumn = "t"\n[fields]\n')
    with pytest.raises(ConfigurationError, match="group_by"):
        load_mapping(path)
