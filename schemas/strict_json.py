"""The one reader of WBX records: exactly I-JSON (RFC 7493) in UTF-8, or an error saying why.

RFC 8785, which defines the bytes a signature covers, is defined over I-JSON. A record that
is not I-JSON could mean different things to two parsers (duplicate member names, lone
surrogates, numbers a double cannot hold), so it is refused before anything reads it:
the Verify stage, the gateway and the CLI all read records through `loads`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from schemas.errors import WbxError

MAX_DEPTH = 32
"""Deepest nesting of arrays and objects a record may have (a WBX envelope needs 5)."""

MAX_SAFE_INTEGER = 2**53 - 1
"""I-JSON integers lie within ±(2^53 - 1), where an IEEE 754 double is exact."""

_MAX_INTEGER_DIGITS = len(str(MAX_SAFE_INTEGER))
# A \uD800-\uDFFF escape is the only way a lone surrogate can reach a parsed string: the UTF-8
# decoder already refuses encoded surrogates. Without such an escape there is nothing to check.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_UTF8_BOM = b"\xef\xbb\xbf"


class NotIJsonError(WbxError, ValueError):
    """A record is not I-JSON in UTF-8; the message names what is wrong and where."""


def excerpt(text: str, limit: int = 40) -> str:
    """`text` cut to `limit` characters (saying how long it was), lone surrogates escaped."""
    shown = text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"
    return shown.encode("utf-8", "backslashreplace").decode("utf-8")


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    # Compare the digit count first: int() of a very long literal is slow, or raises past
    # Python's own digit limit.
    if digits > _MAX_INTEGER_DIGITS or abs(value := int(text)) > MAX_SAFE_INTEGER:
        raise NotIJsonError(
            f"integer {excerpt(text)} is outside ±(2^53 - 1), where I-JSON numbers are exact"
        )
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise NotIJsonError(f"number {excerpt(text)} is beyond the range of an IEEE 754 double")
    return value


def _parse_constant(text: str) -> Any:
    raise NotIJsonError(f"{text} is not a JSON number (NaN and Infinity are not allowed)")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise NotIJsonError(f"member name '{excerpt(name)}' appears twice in one object")
            seen.add(name)
    return obj


def _check_tree(value: Any, max_depth: int, surrogates: bool) -> None:
    """Depth within `max_depth`; with `surrogates`, no string or name holds a lone surrogate."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            if depth > max_depth:
                raise NotIJsonError(f"nested more than {max_depth} levels deep")
            for name, child in node.items():
                if surrogates:
                    _check_text(name)
                stack.append((child, depth + 1))
        elif isinstance(node, list):
            if depth > max_depth:
                raise NotIJsonError(f"nested more than {max_depth} levels deep")
            stack.extend((child, depth + 1) for child in node)
        elif surrogates and isinstance(node, str):
            _check_text(node)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NotIJsonError(
            f"string '{excerpt(text)}' holds a lone surrogate (U+{ord(text[exc.start]):04X}) "
            f"at character {exc.start}"
        ) from None


def loads(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse one I-JSON text; NotIJsonError names the first thing that is not I-JSON.

    Refused: bytes that are not UTF-8 (a byte order mark, UTF-16 or UTF-32 included),
    syntax errors, duplicate member names at any depth, lone surrogates in strings or names,
    NaN/Infinity, numbers beyond a double, integers beyond ±(2^53 - 1), nesting deeper than
    `max_depth`.
    """
    if isinstance(raw, bytes):
        if raw.startswith(_UTF8_BOM):
            raise NotIJsonError("starts with a byte order mark; WBX records are UTF-8 without one")
        if b"\x00" in raw:
            # JSON text never holds a NUL byte; UTF-16 and UTF-32 text of ASCII always does.
            raise NotIJsonError(
                f"NUL byte at offset {raw.index(0)}: UTF-16 and UTF-32 are not accepted, "
                "WBX records are UTF-8"
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NotIJsonError(
                f"not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start} ({exc.reason})"
            ) from None
    else:
        text = raw
    # Brackets inside strings count too, so this only decides whether to look closer.
    deep_candidate = text.count("{") + text.count("[") > max_depth
    try:
        value = json.loads(
            text,
            object_pairs_hook=_object,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except json.JSONDecodeError as exc:
        raise NotIJsonError(
            f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno} (offset {exc.pos})"
        ) from None
    except RecursionError:
        raise NotIJsonError(f"nested more than {max_depth} levels deep") from None
    surrogates = _SURROGATE_ESCAPE.search(text) is not None
    if deep_candidate or surrogates:
        _check_tree(value, max_depth, surrogates)
    return value


__all__ = ["MAX_DEPTH", "MAX_SAFE_INTEGER", "NotIJsonError", "excerpt", "loads"]
