"""Records the platform signs itself: key-registry changes, receipts to senders.

One rule for all of them, the contract's own: Ed25519 over the RFC 8785 form of the record
without its `sig` field, the signature as unpadded base64url, and `signer` naming the key
(`<purpose>.` and 12 hex digits of the SHA-256 of the raw public key). Keys travel as their
raw 32 bytes in unpadded base64url, as `WBX_REGISTRY_PUBLIC_KEY` and
`WBX_RECEIPT_PUBLIC_KEY` are configured.
"""

from __future__ import annotations

import hashlib
from typing import Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, Field

from schemas.canonical import b64url_decode, b64url_encode, canonical_json

RECEIPT_PURPOSE = "receipt"
"""The platform key of the workers: receipts and the workers' audit chains."""
REGISTRY_PURPOSE = "registry"
"""The key registry's key: key changes, and the admin CLI's audit chains."""
AUDIT_PURPOSE = "audit"
"""A gateway's audit key: its audit chain (operators' actions, sign-ins, exports)."""


def key_id(public: Ed25519PublicKey, purpose: str) -> str:
    """The id of a platform key: `<purpose>.` and 12 hex digits of its SHA-256."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return f"{purpose}.{hashlib.sha256(raw).hexdigest()[:12]}"


def public_key_text(public: Ed25519PublicKey) -> str:
    """The raw public key, unpadded base64url (the form the settings take)."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return b64url_encode(raw)


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A public key from its base64url text; ValueError naming the fault."""
    try:
        return Ed25519PublicKey.from_public_bytes(b64url_decode(text.strip()))
    except ValueError as exc:
        raise ValueError(f"not a base64url Ed25519 public key: {exc}") from None


class SignedRecord(BaseModel):
    """A record with the platform's signature over everything but `sig`."""

    signer: str = Field(description="id of the platform key that signed it")
    sig: str = Field(default="", description="Ed25519 over RFC 8785 of the record without sig")

    def signing_input(self) -> bytes:
        """The canonical bytes the key signs."""
        return canonical_json(self.model_dump(mode="json", exclude={"sig"}))

    def signed_with(self, private: Ed25519PrivateKey) -> Self:
        """This record signed by `private` (whose id must be `signer`)."""
        return self.model_copy(update={"sig": b64url_encode(private.sign(self.signing_input()))})

    def signature_valid(self, trusted: Ed25519PublicKey) -> bool:
        """Whether `trusted` made `sig` over this very record."""
        try:
            trusted.verify(b64url_decode(self.sig), self.signing_input())
        except (ValueError, InvalidSignature):
            return False
        return True
