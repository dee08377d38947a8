"""The contract commands as a national developer uses them: keys, validate, sign, verify."""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from schemas.keys import KeyRegistry, new_key_pair, write_private_key
from schemas.registry_log import sign_change
from schemas.settings import ContractSettings, KafkaSettings
from wbx.cli import cli
from wbx.commands import _registry

APPREHENSION = {
    "type": "apprehension",
    "border_section": "MK-RS",
    "direction": "entry",
    "group_size": 2,
    "persons": [{"nationality": "AFG", "sex": "male", "vulnerabilities": ["uam"]}],
}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An offline registry (a file of signed changes) with its own registry key."""
    monkeypatch.setenv("WBX_KEY_REGISTRY", str(tmp_path / "keys.json"))
    monkeypatch.setenv("WBX_PRIVATE_KEY_DIR", str(tmp_path / "private"))
    monkeypatch.setenv("WBX_REGISTRY_LOG", str(tmp_path / "registry.jsonl"))
    monkeypatch.setenv("WBX_REGISTRY_PRIVATE_KEY", str(tmp_path / "registry.pem"))
    monkeypatch.delenv("WBX_REGISTRY_PUBLIC_KEY", raising=False)
    made = CliRunner().invoke(cli, ["keys", "init-registry"])
    assert made.exit_code == 0 and "WBX_REGISTRY_PUBLIC_KEY=" in made.output, made.output
    return tmp_path


def registry_now() -> KeyRegistry:
    """The registry as the CLI sees it: the seed plus the signed changes."""
    with contextlib.redirect_stderr(io.StringIO()):
        return _registry.current(ContractSettings(), KafkaSettings()).registry


def _new_key(runner: CliRunner, agency: str, *extra: str) -> tuple[str, Path]:
    result = runner.invoke(cli, ["keys", "new", "--agency", agency, *extra])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(":", 1) for line in result.output.splitlines() if ":" in line)
    return lines["key id"].strip(), Path(lines["private key"].split(" (")[0].strip())


def test_keys_new_registers_the_public_key_and_keeps_the_private_key_private(env):
    runner = CliRunner()
    kid, private = _new_key(runner, "RS-BP")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    entry = registry_now().get(kid)
    assert entry is not None and entry.agency == "RS-BP"
    assert KeyRegistry.load(env / "keys.json").entries() == []  # the seed is not written
    assert "PRIVATE KEY" not in runner.invoke(cli, ["keys", "list"]).output


def test_rotate_retires_the_old_key_and_revoke_marks_it(env):
    runner = CliRunner()
    old, _ = _new_key(runner, "RS-BP")
    new, _ = _new_key(runner, "RS-BP", "--rotate")
    registry = registry_now()
    assert registry.get(old).valid_until is not None and registry.get(new).valid_until is None
    assert runner.invoke(cli, ["keys", "revoke", old]).exit_code == 0
    assert registry_now().get(old).revoked


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
        ["stats", "audit"],
    ],
)
def test_every_command_has_help(command):
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def _sign(runner: CliRunner, private: Path, agency: str, tmp_path: Path) -> Any:
    """`wbx sign` of one payload; a refusal must also leave no envelope behind."""
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(APPREHENSION) + "\n")
    out = tmp_path / f"signed-{uuid.uuid4()}.jsonl"
    result = runner.invoke(
        cli, ["sign", "--key", str(private), "--agency", agency, "-o", str(out), str(source)]
    )
    if result.exit_code != 0:
        assert not out.exists() or out.read_text() == ""
    return result


def test_sign_refuses_a_key_that_is_unregistered_foreign_retired_or_revoked(env, tmp_path):
    runner = CliRunner()
    stray = tmp_path / "stray.pem"
    write_private_key(Ed25519PrivateKey.generate(), stray)
    refused = _sign(runner, stray, "RS-BP", tmp_path)
    assert refused.exit_code != 0 and "is not registered" in refused.output
    kid, private = _new_key(runner, "RS-BP")
    foreign = _sign(runner, private, "BA-BP", tmp_path)
    assert foreign.exit_code != 0 and "not registered" in foreign.output  # its id names RS-BP
    assert _sign(runner, private, "RS-BP", tmp_path).exit_code == 0
    assert runner.invoke(cli, ["keys", "retire", kid]).exit_code == 0
    retired = _sign(runner, private, "RS-BP", tmp_path)
    assert retired.exit_code != 0 and f"key {kid} was retired" in retired.output
    kid2, private2 = _new_key(runner, "RS-BP")
    assert runner.invoke(cli, ["keys", "revoke", kid2]).exit_code == 0
    revoked = _sign(runner, private2, "RS-BP", tmp_path)
    assert revoked.exit_code != 0 and f"key {kid2} was revoked" in revoked.output


def test_a_change_not_signed_by_the_registry_key_is_ignored_and_import_refuses_it(env, tmp_path):
    runner = CliRunner()
    _, entry = new_key_pair("ME-BP")
    forged = sign_change("add", entry, Ed25519PrivateKey.generate())
    with (env / "registry.jsonl").open("a") as handle:
        handle.write(forged.decode() + "\n")
    assert registry_now().get(entry.kid) is None
    file = tmp_path / "stick.jsonl"
    file.write_bytes(forged + b"\n")
    refused = runner.invoke(cli, ["keys", "import", str(file)])
    assert refused.exit_code != 0 and "line 1: unsigned" in refused.output


def test_keys_new_with_the_default_places_leaves_the_repository_untouched(tmp_path):
    """Run as a user would, with nothing configured but an offline registry file: the private
    key and the registry key land under ~/.wbx, the seed file in infra/ is never written."""
    repo = Path(__file__).resolve().parents[2]
    status = ["git", "status", "--porcelain", "--untracked-files=all"]
    before = subprocess.run(status, cwd=repo, capture_output=True, text=True, check=True).stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith("WBX_")}
    env |= {"HOME": str(tmp_path), "WBX_REGISTRY_LOG": str(tmp_path / "registry.jsonl")}
    for args in (["keys", "init-registry"], ["keys", "new", "--agency", "AL-BP"]):
        done = subprocess.run([sys.executable, "-m", "wbx", *args], cwd=repo, env=env,
                              capture_output=True, text=True, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
    assert list((tmp_path / ".wbx" / "keys").glob("AL-BP.*.pem"))
    assert (tmp_path / ".wbx" / "registry.pem").exists()
    after = subprocess.run(status, cwd=repo, capture_output=True, text=True, check=True).stdout
    assert after == before
