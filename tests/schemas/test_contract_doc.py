"""The worked example in docs/contract.md is reproduced byte for byte by the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from schemas.canonical import signing_input
from schemas.keys import key_id
from schemas.signing import sign_wire

DOC = (Path(__file__).resolve().parents[2] / "docs" / "contract.md").read_text()


def test_worked_example_signing_input_and_signature_match_the_code():
    blocks = re.findall(r"```(?:json)?\n(.*?)```", DOC.split("## 6. Worked example")[1], re.S)
    unsigned, expected_input = json.loads(blocks[0]), blocks[1].strip()
    private = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    kid = key_id("RS-BP", private.public_key())
    assert kid in DOC
    assert signing_input({**unsigned, "wbxkeyid": kid}).decode() == expected_input
    signature = sign_wire(unsigned, private, kid)["wbxsig"]
    assert f"`wbxsig`: `{signature}`" in DOC
