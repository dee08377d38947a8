"""Signing envelopes: Ed25519 over the RFC 8785 form of the envelope without `wbxsig`."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from schemas.canonical import b64url_encode, signing_input
from schemas.envelope import Envelope, EnvelopeBody


def sign_wire(envelope: dict[str, Any], private_key: Ed25519PrivateKey, kid: str) -> dict[str, Any]:
    """Sign a wire-form envelope dict: returns a copy with `wbxkeyid` and `wbxsig` set."""
    unsigned = {k: v for k, v in envelope.items() if k != "wbxsig"}
    unsigned["wbxkeyid"] = kid
    signature = private_key.sign(signing_input(unsigned))
    return {**unsigned, "wbxsig": b64url_encode(signature)}


def sign_envelope(body: EnvelopeBody, private_key: Ed25519PrivateKey, kid: str) -> Envelope:
    """Sign a validated envelope body with an agency key."""
    signed = sign_wire(body.to_wire(), private_key, kid)
    return Envelope.model_validate(signed)
