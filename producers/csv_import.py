"""CSV import: the spreadsheets border units and statistics offices keep, mapped to events.

A mapping file per event type (`infra/csv/<type>.toml`) names the columns. Rows are either
one per incident or one per person, persons grouped into one event by a reference column.
Event ids are derived from agency, type and row/group key, so importing the same file twice
publishes the same events and the Verify stage drops the second copy.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from schemas.compose import compose_envelope
from schemas.config_files import load_toml_model
from schemas.envelope import EnvelopeBody, describe_errors
from schemas.errors import ConfigurationError, EnvelopeInvalidError
from schemas.payloads import payload_model

_NAMESPACE = uuid.UUID("0c0f9a52-3f6b-5d2e-9b1c-77a3c5e10a01")


class Column(BaseModel):
    """How one field is read from a column."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str
    optional: bool = False
    map: dict[str, Any] = Field(default_factory=dict)
    split: str | None = None
    format: str | None = Field(default=None, description="strptime format for dates")
    type: Literal["str", "int", "bool"] = "str"


class TimeColumn(BaseModel):
    """Where the event time is and how it is written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str
    format: str = "%Y-%m-%d %H:%M"
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)
        return value


class CsvMapping(BaseModel):
    """A whole mapping file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    row: Literal["incident", "person"]
    group_by: str | None = None
    time: TimeColumn
    fields: dict[str, Column]
    person: dict[str, Column] = Field(default_factory=dict)
    person_field: str = "persons"
    envelope: dict[str, Any] = Field(default_factory=dict)

    @field_validator("fields", "person", mode="before")
    @classmethod
    def _short_form(cls, value: dict[str, Any]) -> dict[str, Any]:
        return {k: {"column": v} if isinstance(v, str) else v for k, v in value.items()}


def load_mapping(path: Path) -> CsvMapping:
    """Load a mapping file; errors name the file and the entry."""
    mapping = load_toml_model(path, CsvMapping, "mapping file")
    try:
        payload_model(mapping.type)
    except KeyError:
        raise ConfigurationError(f"{path}: type {mapping.type!r} is not a WBX event type") from None
    if mapping.row == "person" and not mapping.group_by:
        raise ConfigurationError(f"{path}: row = 'person' needs group_by (the incident column)")
    return mapping


@dataclass
class ImportResult:
    """Events built from a file and the lines that could not be used."""

    events: list[EnvelopeBody] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rows: int = 0


def _value(spec: Column, row: dict[str, str], line: int) -> Any:
    raw = (row.get(spec.column) or "").strip()
    if not raw:
        if spec.optional:
            return None
        raise ValueError(f"line {line}: column {spec.column}: empty or missing")
    if spec.split is not None:
        return [
            spec.map.get(part.strip(), part.strip())
            for part in raw.split(spec.split)
            if part.strip()
        ]
    if spec.map:
        if raw not in spec.map:
            raise ValueError(
                f"line {line}: column {spec.column}: {raw!r} is not one of {sorted(spec.map)}"
            )
        return spec.map[raw]
    if spec.format:
        try:
            return datetime.strptime(raw, spec.format).date().isoformat()  # noqa: DTZ007 - a date
        except ValueError:
            raise ValueError(
                f"line {line}: column {spec.column}: {raw!r} is not {spec.format}"
            ) from None
    if spec.type == "int":
        if not raw.isdigit():
            raise ValueError(f"line {line}: column {spec.column}: {raw!r} is not a whole number")
        return int(raw)
    if spec.type == "bool":
        return raw.lower() in ("1", "yes", "true", "da", "po", "y")
    return raw


def _read(specs: dict[str, Column], row: dict[str, str], line: int) -> dict[str, Any]:
    values = {name: _value(spec, row, line) for name, spec in specs.items()}
    return {k: v for k, v in values.items() if v is not None}


def _time(mapping: CsvMapping, row: dict[str, str], line: int) -> datetime:
    raw = (row.get(mapping.time.column) or "").strip()
    try:
        local = datetime.strptime(raw, mapping.time.format)  # noqa: DTZ007 - zone applied below
    except ValueError:
        raise ValueError(
            f"line {line}: column {mapping.time.column}: {raw!r} is not {mapping.time.format}"
        ) from None
    return local.replace(tzinfo=ZoneInfo(mapping.time.timezone))


def read_csv(text: str, mapping: CsvMapping, agency: str) -> ImportResult:
    """Build envelopes from CSV text (BOM, ',' or ';' accepted); bad rows reported by line."""
    text = text.removeprefix("\ufeff")
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    result = ImportResult()
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for row in reader:
        line = reader.line_num
        if not any((v or "").strip() for v in row.values()):
            continue
        result.rows += 1
        key = (row.get(mapping.group_by) or "").strip() if mapping.group_by else f"line-{line}"
        if not key:
            result.errors.append(f"line {line}: column {mapping.group_by}: empty or missing")
            continue
        groups.setdefault(key, []).append((line, row))
    model = payload_model(mapping.type)
    for key, rows in groups.items():
        lines = ", ".join(str(n) for n, _ in rows)
        try:
            first_line, first = rows[0]
            data = _read(mapping.fields, first, first_line)
            if mapping.row == "person":
                data[mapping.person_field] = [_read(mapping.person, r, n) for n, r in rows]
                data.setdefault(
                    "group_size", len(rows)
                ) if "group_size" in model.model_fields else None
            payload = model.model_validate(data)
            event_id = str(uuid.uuid5(_NAMESPACE, f"{agency}|{mapping.type}|{key}"))
            result.events.append(
                compose_envelope(
                    payload,
                    agency,
                    event_id=event_id,
                    time=_time(mapping, first, first_line),
                    overrides=mapping.envelope,
                )
            )
        except ValidationError as exc:  # before ValueError, of which it is a subclass
            result.errors.append(f"line {lines}: {describe_errors(exc)}")
        except ValueError as exc:
            result.errors.append(str(exc))
        except EnvelopeInvalidError as exc:
            result.errors.append(f"line {lines}: {exc}")
    return result
