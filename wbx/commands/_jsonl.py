"""Reading JSON Lines input for the CLI: line numbers travel with every object or error."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from schemas import strict_json
from schemas.json_types import json_type_name


@dataclass(frozen=True)
class Line:
    """One non-blank input line: the parsed object, or why it could not be parsed."""

    number: int
    raw: bytes
    value: Any = None
    error: str | None = None


def read_jsonl(stream: IO[bytes]) -> Iterator[Line]:
    """Every non-blank line with its 1-based number; bad input is an error, not a stop.

    Lines are read as bytes and parsed by the contract's own reader, so a file in UTF-16 or
    with invalid UTF-8 gets the same precise `malformed` detail the worker would give.
    """
    for number, line in enumerate(stream, start=1):
        raw = line.strip(b" \t\r\n")
        if not raw:
            continue
        try:
            value = strict_json.loads(raw)
        except strict_json.NotIJsonError as exc:
            yield Line(number, raw, error=str(exc))
            continue
        if not isinstance(value, dict):
            got = json_type_name(value)
            yield Line(number, raw, error=f"expected a JSON object, got {got}")
            continue
        yield Line(number, raw, value=value)
