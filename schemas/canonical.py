"""RFC 8785 (JCS) canonical JSON and the exact bytes a WBX signature covers."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import rfc8785

SIGNATURE_ATTRIBUTE = "wbxsig"


_SAFE_INTEGER = 2**53 - 1


def _plain(value: Any) -> bool:
    """Whether `json.dumps` writes `value`'s RFC 8785 form byte for byte: no floats, integers
    within I-JSON's exact range, objects with ASCII keys (so code-point order is RFC 8785's
    UTF-16 order). Strings escape the same in both: `"`, `\\` and U+0000-U+001F only, with
    the short forms and lower-case `\\u00xx`."""
    if value is None or isinstance(value, bool | str):
        return True
    if isinstance(value, int):
        return -_SAFE_INTEGER <= value <= _SAFE_INTEGER
    if isinstance(value, dict):
        return all(isinstance(k, str) and k.isascii() and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(item) for item in value)
    return False


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical UTF-8 bytes of a JSON value.

    The common case (no floats, ASCII keys) goes through the C JSON encoder: 24 µs instead
    of 68 µs for an envelope, and byte for byte the same (a property test holds them to
    that). Everything else, and any string the encoder cannot take (a lone surrogate), goes
    to the reference implementation.
    """
    if _plain(value):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            pass
    return bytes(rfc8785.dumps(value))


def signing_input(envelope: Mapping[str, Any]) -> bytes:
    """The signed bytes: the canonical JSON of the envelope object without `wbxsig`."""
    return canonical_json({k: v for k, v in envelope.items() if k != SIGNATURE_ATTRIBUTE})


def b64url_encode(raw: bytes) -> str:
    """Unpadded base64url text of raw bytes."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Raw bytes of unpadded (or padded) base64url text; ValueError if it is not base64url."""
    if not text or any(c not in _B64URL for c in text.rstrip("=")):
        raise ValueError("not base64url text")
    padded = text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4)
    return base64.urlsafe_b64decode(padded)


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
