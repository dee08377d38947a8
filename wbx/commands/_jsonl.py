"""Reading JSON Lines input for the CLI: line numbers travel with every object or error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any


@dataclass(frozen=True)
class Line:
    """One non-blank input line: the parsed object, or why it could not be parsed."""

    number: int
    text: str
    value: Any = None
    error: str | None = None


def read_jsonl(stream: IO[str]) -> Iterator[Line]:
    """Yield every non-blank line with its 1-based number; bad JSON becomes an error, not a stop."""
    for number, text in enumerate(stream, start=1):
        stripped = text.strip()
        if not stripped:
            continue
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError as exc:
            yield Line(number, stripped, error=f"not JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(value, dict):
            yield Line(
                number, stripped, error=f"expected a JSON object, got {type(value).__name__}"
            )
            continue
        yield Line(number, stripped, value=value)
