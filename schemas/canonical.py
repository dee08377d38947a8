"""RFC 8785 (JCS) canonical JSON and the exact bytes a WBX signature covers."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import rfc8785

SIGNATURE_ATTRIBUTE = "wbxsig"


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical UTF-8 bytes of a JSON value."""
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
