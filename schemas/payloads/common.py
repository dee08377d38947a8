"""Building blocks shared by every payload: the base class, section ids, persons, locations."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from schemas.json_types import JsonDate, JsonNumber
from schemas.nationality import Nationality
from schemas.personal import DataCategory, DataKind, personal
from schemas.vocab import AgeBand, EventFamily, Sex, Vulnerability

SECTION_PATTERN = r"^[A-Z]{2}-[A-Z]{2}(-[1-9][0-9]*)?$"
_SECTION_RE = re.compile(SECTION_PATTERN)


def check_section_id(value: str) -> str:
    """Validate a border section id: two country codes in alphabetical order, optional -n."""
    if not _SECTION_RE.match(value):
        raise ValueError(f"border section id {value!r} is not CC-CC or CC-CC-n (e.g. 'BA-ME-2')")
    first, second = value.split("-")[:2]
    if first >= second:
        raise ValueError(
            f"border section id {value!r}: country codes must be distinct and in alphabetical "
            f"order ('{min(first, second)}-{max(first, second)}')"
        )
    return value


SectionId = Annotated[
    str,
    Field(pattern=SECTION_PATTERN, examples=["BA-ME", "MK-RS-2"]),
    AfterValidator(check_section_id),
]


class WireModel(BaseModel):
    """Base of every model on the wire: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Location(WireModel):
    """A WGS 84 position."""

    lat: JsonNumber = Field(ge=-90, le=90)
    lon: JsonNumber = Field(ge=-180, le=180)


OptionalLocation = Annotated[
    Location | None,
    personal(DataCategory.QUASI_IDENTIFIER, DataKind.LOCATION, description="exact position"),
]
Notes = Annotated[
    str | None,
    personal(
        DataCategory.FREE_TEXT,
        DataKind.NOTES,
        max_length=4000,
        description="free text; never leaves the originating agency's view",
    ),
]


class Person(WireModel):
    """One person as reported by an agency."""

    nationality: Nationality = personal(
        DataCategory.QUASI_IDENTIFIER, DataKind.NATIONALITY, default=..., examples=["AFG"]
    )
    sex: Sex = personal(DataCategory.QUASI_IDENTIFIER, DataKind.SEX, default=...)
    birth_date: JsonDate | None = personal(DataCategory.QUASI_IDENTIFIER, DataKind.BIRTH_DATE)
    age_band: AgeBand | None = personal(DataCategory.QUASI_IDENTIFIER, DataKind.AGE_BAND)
    name: str | None = personal(DataCategory.DIRECT_IDENTIFIER, DataKind.NAME, max_length=200)
    document_number: str | None = personal(
        DataCategory.DIRECT_IDENTIFIER, DataKind.DOCUMENT_NUMBER, max_length=64
    )
    biometric_ref: str | None = personal(
        DataCategory.DIRECT_IDENTIFIER, DataKind.BIOMETRIC_REF, max_length=128
    )
    phone: str | None = personal(DataCategory.DIRECT_IDENTIFIER, DataKind.PHONE, max_length=32)
    vulnerabilities: list[Vulnerability] = personal(
        DataCategory.SPECIAL_CATEGORY, DataKind.VULNERABILITY, default_factory=list
    )


class Payload(WireModel):
    """Base of every event payload (`data` of the envelope)."""

    family: ClassVar[EventFamily]
    kind: ClassVar[str]
    major: ClassVar[int] = 1

    border_section: SectionId

    @classmethod
    def event_type(cls) -> str:
        """The CloudEvents `type` of this payload, e.g. `wbx.mixed_movement.apprehension`."""
        return f"wbx.{cls.family.value}.{cls.kind}"

    @classmethod
    def dataschema(cls) -> str:
        """The CloudEvents `dataschema` URN of this payload's current major version."""
        return f"urn:wbx:schema:{cls.family.value}.{cls.kind}:{cls.major}"
