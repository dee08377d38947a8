"""Keyed pseudonyms: HMAC-SHA-256 with the regional secret, so records link without revealing.

Two agencies that hold the same document number get the same pseudonym (the value is
normalised first) while nobody without the secret can reverse or confirm it. The kind is
part of the input so a plate and a document with the same text never collide. The key id
travels in the pseudonym so the secret can rotate: pseudonyms of different key ids are
different by design and are linked only within one key period.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from schemas.personal import DataKind

_NOISE = re.compile(r"[\s\-./]")


def normalise(value: str) -> str:
    """The form compared across agencies: upper case without spaces, dashes, dots or slashes."""
    return _NOISE.sub("", value).upper()


class Pseudonymiser:
    """Turns identifiers into stable, keyed pseudonyms."""

    def __init__(self, secret: bytes, key_id: str) -> None:
        if len(secret) < 16:
            raise ValueError("the pseudonym secret must be at least 16 bytes")
        self._secret = secret
        self.key_id = key_id

    def pseudonym(self, kind: DataKind, value: str) -> str:
        """`psn:<key id>:<32 hex digits>` for one identifier of one kind."""
        message = f"{kind.value}:{normalise(value)}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).hexdigest()
        return f"psn:{self.key_id}:{digest[:32]}"
