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
    text: str
    value: Any = None
    error: str | None = None


def read_jsonl(stream: IO[str]) -> Iterator[Line]:
    """Every non-blank line with its 1-based number; bad input is an error, not a stop."""
    for number, text in enumerate(stream, start=1):
        stripped = text.strip()
        if not stripped:
            continue
        try:
            value = strict_json.loads(stripped)
        except strict_json.NotIJsonError as exc:
            yield Line(number, stripped, error=str(exc))
            continue
        if not isinstance(value, dict):
            yield Line(
                number, stripped, error=f"expected a JSON object, got {json_type_name(value)}"
            )
            continue
        yield Line(number, stripped, value=value)
