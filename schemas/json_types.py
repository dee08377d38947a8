"""JSON value types of the wire models: exactly the JSON type the exported schema states.

Models validate the Python values `schemas.strict_json.loads` produces. Pydantic's default
(lax) mode would coerce `"5"` to 5, `"yes"` to True or a Unix number to a datetime, so two
implementations could read one signed document differently. These types accept what the
exported JSON Schema accepts and nothing else:

- an integer is a JSON number without a fractional part (`1` and `1.0` are the same JSON
  number, and RFC 8785 writes both as `1`), never a boolean or a string;
- a number is any JSON number, never a boolean or a string;
- a boolean is `true` or `false`;
- a date-time is an RFC 3339 string with an offset (at most nanosecond digits; stored with
  microsecond precision), a date an RFC 3339 full-date string.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from schemas.vocab import Accuracy

DATE_PATTERN = r"^(?!0000)[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
DATE_TIME_PATTERN = (
    r"^(?!0000)[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]"
    r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?"
    r"([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
_DATE_RE = re.compile(DATE_PATTERN)
_DATE_TIME_RE = re.compile(DATE_TIME_PATTERN)
_FRACTION_RE = re.compile(r"(\.[0-9]{6})[0-9]+")


_JSON_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (type(None), "null"),
    (bool, "boolean"),  # before int: a bool is an int in Python, never in JSON
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


def json_type_name(value: Any) -> str:
    """The JSON type of a parsed JSON value, as a schema would name it."""
    return next(
        (name for kind, name in _JSON_TYPE_NAMES if isinstance(value, kind)), type(value).__name__
    )


def _wrong_type(expected: str, value: Any) -> PydanticCustomError:
    return PydanticCustomError(
        "json_type",
        "expected a JSON {expected}, got {got}",
        {"expected": expected, "got": json_type_name(value)},
    )


def _integer(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong_type("integer", value)
    if isinstance(value, float):
        if not value.is_integer():
            raise PydanticCustomError(
                "json_type", "expected a JSON integer, got {value}", {"value": value}
            )
        return int(value)
    return value


def _boolean(value: Any) -> Any:
    if not isinstance(value, bool):
        raise _wrong_type("boolean", value)
    return value


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong_type("number", value)
    return value


def parse_rfc3339(text: str) -> datetime:
    """An aware datetime from RFC 3339 date-time text; ValueError naming the problem."""
    if not _DATE_TIME_RE.match(text):
        raise ValueError(f"{text[:64]!r} is not an RFC 3339 date-time with an offset")
    normal = _FRACTION_RE.sub(r"\1", text.upper().replace("Z", "+00:00"))
    try:
        return datetime.fromisoformat(normal)
    except ValueError:
        raise ValueError(f"{text!r} is not a calendar date-time") from None


def _date_time(value: Any) -> Any:
    if isinstance(value, datetime):
        return value  # built in code, not read from JSON
    if not isinstance(value, str):
        raise _wrong_type("string (RFC 3339 date-time)", value)
    try:
        return parse_rfc3339(value)
    except ValueError as exc:
        raise PydanticCustomError("date_time", str(exc)) from None


def _date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise _wrong_type("string (RFC 3339 full-date)", value)
    if not _DATE_RE.match(value):
        raise PydanticCustomError("date", "{text} is not an RFC 3339 date", {"text": value[:64]})
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError(
            "date", "{text} is not a calendar date", {"text": value}
        ) from None


JsonInt = Annotated[int, BeforeValidator(_integer)]
"""A JSON integer (a number with no fractional part)."""

JsonNumber = Annotated[float, BeforeValidator(_number)]
"""Any JSON number."""

JsonBool = Annotated[bool, BeforeValidator(_boolean)]
"""`true` or `false`."""

JsonDateTime = Annotated[
    AwareDatetime,
    BeforeValidator(_date_time),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": DATE_TIME_PATTERN}),
]
"""An RFC 3339 date-time string with an offset."""

JsonDate = Annotated[
    date,
    BeforeValidator(_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN}),
]
"""An RFC 3339 full-date string."""

AccuracyCode = Annotated[Accuracy, BeforeValidator(_integer)]
"""Europol's accuracy 1-4 as a JSON integer (never the string "2")."""
