"""Keyed pseudonyms: HMAC-SHA-256 with the regional secret, so records link without revealing.

Two agencies that hold the same document number get the same pseudonym (the value is
normalised first), while nobody without the secret can reverse a pseudonym or confirm a guess
(a plain hash of a passport number could be brute-forced from the number's format). The kind
is part of the HMAC input so a plate and a document with the same text never collide. The key
id travels in the pseudonym so the secret can rotate: pseudonyms of different key ids never
match, so records link only within one key period, which also bounds long-term tracking.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re

from schemas.errors import ConfigurationError
from schemas.personal import DataKind

logger = logging.getLogger(__name__)

PREFIX = "psn"
HEX_LENGTH = 32
"""128 bits of the HMAC: collisions are negligible at regional volumes, pseudonyms stay short."""

MIN_SECRET_BYTES = 16
KEY_ID_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
_KEY_ID_RE = re.compile(KEY_ID_PATTERN)
# Agencies write the same number with or without spaces and dashes ("AB 123-45", "ab12345").
_SEPARATORS = re.compile(r"[\s-]+")


def normalise(value: str) -> str:
    """The form compared across agencies: stripped, upper case, no spaces or dashes."""
    return _SEPARATORS.sub("", value.strip()).upper()


class Pseudonymiser:
    """Turns identifiers into stable, keyed pseudonyms `psn:<key id>:<32 hex digits>`."""

    def __init__(self, secret: bytes, key_id: str) -> None:
        # A short secret can be brute-forced offline from a few known (value, pseudonym) pairs.
        if len(secret) < MIN_SECRET_BYTES:
            raise ConfigurationError(
                f"the pseudonym secret must be at least {MIN_SECRET_BYTES} bytes"
            )
        # ':' separates the parts of a pseudonym, so the key id must not contain one.
        if not _KEY_ID_RE.match(key_id):
            raise ConfigurationError(f"pseudonym key id {key_id!r} does not match {KEY_ID_PATTERN}")
        self._secret = secret
        self.key_id = key_id

    def __repr__(self) -> str:
        # Never show the secret in logs or tracebacks.
        return f"Pseudonymiser(key_id={self.key_id!r})"

    def record_key(self, source: str, event_id: str) -> int:
        """The event's 32-bit record key for statistics (the cell key method).

        Keyed, so nobody without the secret can compute the noise of a published cell; a
        function of the event's identity, so a redelivery or a replay gets the same key. It
        is stored in the shared record, so a later rotation of the secret leaves the
        published values of past windows unchanged.
        """
        mac = hmac.new(self._secret, f"record-key|{source}|{event_id}".encode(), hashlib.sha256)
        return int.from_bytes(mac.digest()[:4], "big")

    def pseudonym(self, kind: DataKind, value: str) -> str:
        """The pseudonym of one identifier of one kind under the current key."""
        # Kind and key id are inside the MAC, not only in the visible prefix, so the hex part
        # alone never links across kinds or key periods either. No kind contains ':'.
        message = f"{self.key_id}:{kind.value}:{normalise(value)}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).hexdigest()
        return f"{PREFIX}:{self.key_id}:{digest[:HEX_LENGTH]}"
