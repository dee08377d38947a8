"""The CloudEvents 1.0 envelope (structured mode) with the WBX extension attributes."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from schemas.errors import describe_validation
from schemas.json_types import AccuracyCode, JsonBool, JsonDateTime
from schemas.payloads import PAYLOAD_TYPES, Payload
from schemas.payloads.common import WireModel
from schemas.vocab import Handling, ImpactLevel, Purpose, Reliability

CONTENT_TYPE = "application/cloudevents+json"
"""Kafka `content-type` header value of a structured-mode CloudEvent."""

AGENCY_PATTERN = r"^(AL|BA|XK|ME|MK|RS)-[A-Z0-9]{2,12}$"
SOURCE_PREFIX = "urn:wbx:agency:"
SOURCE_PATTERN = r"^urn:wbx:agency:(AL|BA|XK|ME|MK|RS)-[A-Z0-9]{2,12}$"
SIGNATURE_PATTERN = r"^[A-Za-z0-9_-]{86}$"
_AGENCY_RE = re.compile(AGENCY_PATTERN)


CROSS_FIELD_RULES: dict[str, str] = {
    "type-dataschema": "dataschema is the schema of type, and data follows that schema",
    "subject-section": "subject equals data.border_section",
    "section-order": "a border section id names its two countries in alphabetical order",
    "retention-after-time": "wbxretainuntil is later than time",
    "closed-needs-incident": "wbxclosed is given only with wbxincident (null counts as absent)",
    "persons-within-group": "an apprehension lists at most group_size persons",
}
"""Rules a JSON Schema cannot state (they compare members); exported as `x-wbx-rules`."""


def check_uuid(value: str) -> str:
    """Accept a UUID in its canonical 8-4-4-4-12 hex form (any case)."""
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a UUID") from None
    if str(parsed) != value.lower():
        raise ValueError(f"{value!r} is not in canonical 8-4-4-4-12 UUID form")
    return value


UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
EventId = Annotated[str, Field(pattern=UUID_PATTERN), AfterValidator(check_uuid)]


def agency_of(source: str) -> str:
    """The agency id (`RS-BP`) named by a source URN (`urn:wbx:agency:RS-BP`)."""
    if not source.startswith(SOURCE_PREFIX):
        raise ValueError(f"source {source!r} does not start with {SOURCE_PREFIX!r}")
    agency = source.removeprefix(SOURCE_PREFIX)
    if not _AGENCY_RE.match(agency):
        raise ValueError(f"agency {agency!r} is not <PARTICIPANT>-<UNIT>, e.g. 'RS-BP'")
    return agency


def source_of(agency: str) -> str:
    """The source URN of an agency id."""
    return SOURCE_PREFIX + agency_of(SOURCE_PREFIX + agency)


class EnvelopeBody(WireModel):
    """Every envelope attribute except the signature: what an agency fills before signing."""

    specversion: Literal["1.0"] = "1.0"
    id: EventId
    source: str = Field(pattern=SOURCE_PATTERN, examples=["urn:wbx:agency:RS-BP"])
    type: str = Field(pattern=r"^wbx\.[a-z_]+\.[a-z_]+$")
    time: JsonDateTime
    subject: str
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str = Field(pattern=r"^urn:wbx:schema:[a-z_]+\.[a-z_]+:[1-9][0-9]*$")
    wbxhandling: Handling
    wbxpurpose: Purpose
    wbxretainuntil: JsonDateTime
    wbxreliability: Reliability
    wbxaccuracy: AccuracyCode
    wbximpact: ImpactLevel
    wbxincident: EventId | None = None
    wbxclosed: JsonBool | None = None
    wbxkeyid: str | None = Field(default=None, min_length=1, max_length=128)
    data: dict[str, Any]

    _payload: Payload = PrivateAttr()

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        model = PAYLOAD_TYPES.get(self.type)
        if model is None:
            raise ValueError(f"type {self.type!r} is not one of the {len(PAYLOAD_TYPES)} WBX types")
        if self.dataschema != model.dataschema():
            raise ValueError(f"dataschema {self.dataschema!r} does not match type {self.type!r}")
        try:
            self._payload = model.model_validate(self.data)
        except ValidationError as exc:
            raise ValueError(describe_validation(exc, ("data",))) from None
        if self.subject != self._payload.border_section:
            raise ValueError(
                f"subject {self.subject!r} differs from data.border_section "
                f"{self._payload.border_section!r}"
            )
        if self.wbxretainuntil <= self.time:
            raise ValueError("wbxretainuntil must be later than time")
        if self.wbxclosed is not None and self.wbxincident is None:
            raise ValueError("wbxclosed needs wbxincident (the incident being closed)")
        return self

    @property
    def payload(self) -> Payload:
        """The validated payload model of `data`."""
        return self._payload

    @property
    def agency(self) -> str:
        """The publishing agency id, e.g. `RS-BP`."""
        return agency_of(self.source)

    def to_wire(self) -> dict[str, Any]:
        """The JSON object form, omitting attributes that are not set."""
        return self.model_dump(mode="json", exclude_none=True)


class Envelope(EnvelopeBody):
    """A signed envelope: the body plus `wbxkeyid` and `wbxsig`."""

    wbxkeyid: str = Field(min_length=1, max_length=128)
    wbxsig: str = Field(pattern=SIGNATURE_PATTERN, description="unpadded base64url Ed25519")


def describe_errors(exc: ValidationError) -> str:
    """One line naming each invalid field of an envelope by its path and what is wrong."""
    return describe_validation(exc, root="<envelope>")


def utc_iso(moment: datetime) -> str:
    """RFC 3339 text of an aware datetime, as pydantic writes it on the wire."""
    return moment.isoformat().replace("+00:00", "Z")
