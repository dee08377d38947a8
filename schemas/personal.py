"""Personal-data marks: every field that can hold personal data says so in the model itself.

The data-protection filter walks these marks; nothing keeps a separate list of sensitive
fields. The mark is also exported into JSON Schema as `x-wbx-personal-data`, so outside
systems see the same classification.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from pydantic.fields import FieldInfo

SCHEMA_KEYWORD = "x-wbx-personal-data"


class DataCategory(StrEnum):
    """GDPR-style category of a personal-data field."""

    DIRECT_IDENTIFIER = "direct_identifier"
    QUASI_IDENTIFIER = "quasi_identifier"
    SPECIAL_CATEGORY = "special_category"
    FREE_TEXT = "free_text"


class DataKind(StrEnum):
    """What a personal-data field holds; the protection policy decides per kind."""

    NAME = "name"
    DOCUMENT_NUMBER = "document_number"
    BIOMETRIC_REF = "biometric_ref"
    VEHICLE_PLATE = "vehicle_plate"
    PHONE = "phone"
    CASE_REFERENCE = "case_reference"
    BIRTH_DATE = "birth_date"
    AGE_BAND = "age_band"
    NATIONALITY = "nationality"
    SEX = "sex"
    LOCATION = "location"
    VULNERABILITY = "vulnerability"
    NOTES = "notes"


@dataclass(frozen=True)
class PersonalData:
    """The mark attached to a field: its category and kind."""

    category: DataCategory
    kind: DataKind

    def as_schema(self) -> dict[str, str]:
        """The JSON Schema annotation form of this mark."""
        return {"category": self.category.value, "kind": self.kind.value}


def personal(category: DataCategory, kind: DataKind, *, default: Any = None, **kwargs: Any) -> Any:
    """A pydantic Field marked as personal data (use in place of `Field`)."""
    mark = PersonalData(category, kind)
    extra = {SCHEMA_KEYWORD: mark.as_schema()}
    if "default_factory" in kwargs:
        return Field(json_schema_extra=extra, **kwargs)  # type: ignore[arg-type]
    return Field(default, json_schema_extra=extra, **kwargs)  # type: ignore[arg-type]


def mark_of(field: FieldInfo) -> PersonalData | None:
    """The personal-data mark of a model field, or None when it holds no personal data."""
    extra = field.json_schema_extra
    if not isinstance(extra, dict):
        return None
    raw = extra.get(SCHEMA_KEYWORD)
    if not isinstance(raw, dict):
        return None
    return PersonalData(DataCategory(str(raw["category"])), DataKind(str(raw["kind"])))


def personal_fields(model: type[BaseModel]) -> dict[str, PersonalData]:
    """The marked fields of one model (not recursing into nested models)."""
    marks: dict[str, PersonalData] = {}
    for name, field in model.model_fields.items():
        mark = mark_of(field)
        if mark is not None:
            marks[name] = mark
    return marks
