"""The worked example in docs/contract.md is reproduced byte for byte by the code."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from schemas.canonical import signing_input
from schemas.json_types import parse_rfc3339
from schemas.keys import KeyRegistry, key_id, new_key_pair
from schemas.signed import public_key_text as key_text
from schemas.signing import sign_wire
from schemas.verification import Verifier

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


def _moment(text: str) -> datetime:
    return parse_rfc3339(text)


def test_every_row_of_the_time_rules_table_is_the_verifiers_verdict():
    section = DOC.split("**The time rules on this example**")[1].split("## 7.")[0]
    rows = re.findall(r"^\| (.+?) \| (\S+) \| `(\w+)`", section, re.M)
    assert len(rows) == 7
    example = DOC.split("## 6. Worked example")[1]
    unsigned = json.loads(re.findall(r"```(?:json)?\n(.*?)```", example, re.S)[0])
    private = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    kid = key_id("RS-BP", private.public_key())
    event = sign_wire(unsigned, private, kid)
    public = new_key_pair("RS-BP")[1].model_copy(
        update={"kid": kid, "public_key": key_text(private.public_key())}
    )
    for entry_text, received, reason in rows:
        change: dict[str, object] = {"valid_from": _moment("2026-11-23T08:00:00Z")}
        found = re.search(r"`(valid_until|revoked_at)` (\S+)", entry_text)
        if found:
            change[found.group(1)] = _moment(found.group(2))
            change["revoked"] = found.group(1) == "revoked_at"
        registry = KeyRegistry([public.model_copy(update=change)])
        verdict = Verifier(registry).verify_object(event, received_at=_moment(received))
        assert verdict.reason.value == reason, (entry_text, received, verdict.detail)
