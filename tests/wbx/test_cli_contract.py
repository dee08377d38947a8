"""The contract commands as a national developer uses them: keys, validate, sign, verify."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from schemas.keys import KeyRegistry
from wbx.cli import cli

APPREHENSION = {
    "type": "apprehension",
    "border_section": "MK-RS",
    "direction": "entry",
    "group_size": 2,
    "persons": [{"nationality": "AFG", "sex": "male", "vulnerabilities": ["uam"]}],
}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WBX_KEY_REGISTRY", str(tmp_path / "keys.json"))
    monkeypatch.setenv("WBX_PRIVATE_KEY_DIR", str(tmp_path / "private"))
    return tmp_path


def _new_key(runner: CliRunner, agency: str, *extra: str) -> tuple[str, Path]:
    result = runner.invoke(cli, ["keys", "new", "--agency", agency, *extra])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(":", 1) for line in result.output.splitlines() if ":" in line)
    return lines["key id"].strip(), Path(lines["private key"].split(" (")[0].strip())


def test_keys_new_registers_the_public_key_and_keeps_the_private_key_private(env):
    runner = CliRunner()
    kid, private = _new_key(runner, "RS-BP")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    entry = KeyRegistry.load(env / "keys.json").get(kid)
    assert entry is not None and entry.agency == "RS-BP"
    assert "PRIVATE KEY" not in runner.invoke(cli, ["keys", "list"]).output


def test_rotate_retires_the_old_key_and_revoke_marks_it(env):
    runner = CliRunner()
    old, _ = _new_key(runner, "RS-BP")
    new, _ = _new_key(runner, "RS-BP", "--rotate")
    registry = KeyRegistry.load(env / "keys.json")
    assert registry.get(old).valid_until is not None and registry.get(new).valid_until is None
    assert runner.invoke(cli, ["keys", "revoke", old]).exit_code == 0
    assert KeyRegistry.load(env / "keys.json").get(old).revoked


def test_bad_agency_is_a_clear_error(env):
    result = CliRunner().invoke(cli, ["keys", "new", "--agency", "rs_bp"])
    assert result.exit_code != 0
    assert "rs_bp" in result.output


def test_validate_reports_each_bad_line_with_its_number_and_field(env, tmp_path):
    lines = [json.dumps(APPREHENSION), "{not json", json.dumps({**APPREHENSION, "group_size": 0})]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(cli, ["validate", str(source)])
    assert result.exit_code == 1
    assert "line 1: valid wbx.mixed_movement.apprehension" in result.output
    assert "line 2: invalid: not JSON" in result.output
    assert "line 3: invalid: group_size" in result.output


def test_sign_then_verify_round_trip_and_tampering_is_caught(env, tmp_path):
    runner = CliRunner()
    _, private = _new_key(runner, "MK-BP")
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(APPREHENSION) + "\n")
    signed = tmp_path / "signed.jsonl"
    result = runner.invoke(
        cli, ["sign", "--key", str(private), "--agency", "MK-BP", "-o", str(signed), str(source)]
    )
    assert result.exit_code == 0, result.output
    verified = runner.invoke(cli, ["verify", str(signed)])
    assert verified.exit_code == 0 and "line 1: ok" in verified.output
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text(signed.read_text().replace('"group_size":2', '"group_size":3'))
    result = runner.invoke(cli, ["verify", str(tampered)])
    assert result.exit_code == 1 and "line 1: bad_signature" in result.output


def test_verify_gives_non_i_json_lines_the_workers_verdict_without_a_traceback(env, tmp_path):
    runner = CliRunner()
    _, private = _new_key(runner, "MK-BP")
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(APPREHENSION) + "\n")
    signed = tmp_path / "signed.jsonl"
    runner.invoke(
        cli, ["sign", "--key", str(private), "--agency", "MK-BP", "-o", str(signed), str(source)]
    )
    text = signed.read_text().strip()
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_bytes(
        b"\n".join(
            [
                text.encode(),
                (text[:-1] + ', "source": "urn:wbx:agency:AL-BP"}').encode(),
                text.encode()[:40] + b"\xff" + text.encode()[40:],
            ]
        )
    )
    result = runner.invoke(cli, ["verify", str(mixed)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "line 1: ok" in result.output
    assert "line 2: malformed" in result.output and "'source' appears twice" in result.output
    assert (
        "line 3: malformed" in result.output
        and "not UTF-8: byte 0xff at offset 40" in result.output
    )
    utf16 = tmp_path / "utf16.jsonl"
    utf16.write_bytes(text.encode("utf-16"))
    result = runner.invoke(cli, ["verify", str(utf16)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "UTF-16 and UTF-32 are not accepted" in result.output


def test_schemas_export_and_check_commands(env, tmp_path):
    runner = CliRunner()
    old, new = tmp_path / "old", tmp_path / "new"
    assert runner.invoke(cli, ["schemas", "export", str(old)]).exit_code == 0
    assert runner.invoke(cli, ["schemas", "export", str(new)]).exit_code == 0
    assert runner.invoke(cli, ["schemas", "check", str(old), str(new)]).exit_code == 0
    target = new / "wbx.border_incident.death_or_missing_person.v1.json"
    document = json.loads(target.read_text())
    del document["properties"]["count"]
    target.write_text(json.dumps(document))
    result = runner.invoke(cli, ["schemas", "check", str(old), str(new)])
    assert result.exit_code != 0
    assert "count: field removed" in result.output


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["keys"],
        ["keys", "new"],
        ["schemas", "check"],
        ["validate"],
        ["sign"],
        ["verify"],
        ["worker"],
        ["broker"],
        ["topics", "apply"],
        ["publish"],
        ["import-csv"],
        ["outbox", "drain"],
        ["simulate"],
        ["gateway"],
        ["tokens", "issue"],
        ["up"],
        ["bench"],
    ],
)
def test_every_command_has_help(command):
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
