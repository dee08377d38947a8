"""`wbx deploy secrets`: a CA whose certificates the brokers can serve and verify, one
password per principal, credentials for each container, and no silent overwrite."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID

from schemas.signed import public_key_text
from wbx.cli import cli
from wbx.deploy import BROKER_PRINCIPAL, deployment_secrets


def _run(directory: Path, *extra: str) -> tuple[int, str]:
    done = CliRunner().invoke(cli, ["deploy", "secrets", "--dir", str(directory), *extra])
    return done.exit_code, done.output


def test_each_node_certificate_is_signed_by_the_ca_for_its_name_and_matches_its_key():
    files = {f.path: f.content for f in deployment_secrets(["wbx-worker"], datetime.now(UTC))}
    ca = x509.load_pem_x509_certificate(files["kafka/ca.crt"])
    assert files["wbx/ca.crt"] == files["kafka/ca.crt"]
    for node in (1, 2, 3):
        pem = files[f"kafka/kafka-{node}.pem"]
        key = serialization.load_pem_private_key(pem, password=None)
        cert = x509.load_pem_x509_certificate(pem[pem.index(b"-----BEGIN CERTIFICATE") :])
        cert.verify_directly_issued_by(ca)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        assert key.public_key() == cert.public_key()
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert f"kafka-{node}" in names.get_values_for_type(x509.DNSName)
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH} <= set(usages)


def test_every_principal_and_the_brokers_get_their_own_password_and_the_envs_match():
    principals = ["wbx-worker", "wbx-gateway", "wbx-admin", "wbx-publisher-al-bp"]
    files = {f.path: f.content for f in deployment_secrets(principals, datetime.now(UTC))}
    passwords = {p: files[f"kafka/scram/{p}"].decode() for p in [*principals, BROKER_PRINCIPAL]}
    assert len(set(passwords.values())) == len(passwords)
    assert all(len(p) >= 24 for p in passwords.values())
    for service in ("worker", "gateway", "admin"):
        env = dict(line.split("=", 1) for line in files[f"{service}.env"].decode().splitlines())
        user = env["WBX_KAFKA_SASL_USERNAME"]
        assert user == f"wbx-{service}" and env["WBX_KAFKA_SASL_PASSWORD"] == passwords[user]
    assert f'password="{passwords[BROKER_PRINCIPAL]}"' in files["kafka/admin.properties"].decode()
    second = {f.path: f.content for f in deployment_secrets(principals, datetime.now(UTC))}
    assert second["kafka/scram/wbx-worker"] != files["kafka/scram/wbx-worker"]


def test_the_command_writes_the_plans_principals_and_keeps_the_ca_key_private(tmp_path: Path):
    target = tmp_path / "secrets"
    code, output = _run(target)
    assert code == 0, output
    scram = {p.name for p in (target / "kafka" / "scram").iterdir()}
    assert {"wbx-broker", "wbx-worker", "wbx-admin", "wbx-pcc-plav", "wbx-publisher-rs-bp"} <= scram
    assert (target / "ca" / "ca.key").stat().st_mode & 0o077 == 0
    assert target.stat().st_mode & 0o077 == 0
    assert "wbx-publisher-<agency>" in output


def test_the_command_never_overwrites_secrets_without_force(tmp_path: Path):
    target = tmp_path / "secrets"
    assert _run(target)[0] == 0
    before = (target / "kafka" / "scram" / "wbx-worker").read_bytes()
    code, output = _run(target)
    assert code == 1 and "already holds secrets; --force replaces them" in output
    assert (target / "kafka" / "scram" / "wbx-worker").read_bytes() == before
    assert _run(target, "--force")[0] == 0
    assert (target / "kafka" / "scram" / "wbx-worker").read_bytes() != before


def test_the_workers_receipt_key_is_theirs_alone_and_every_container_knows_its_public_half():
    files = {f.path: f.content for f in deployment_secrets(["wbx-worker"], datetime.now(UTC))}
    private = serialization.load_pem_private_key(files["worker/receipt-key.pem"], password=None)
    assert isinstance(private, Ed25519PrivateKey)
    public = public_key_text(private.public_key())
    for service in ("worker", "gateway", "admin"):
        env = dict(line.split("=", 1) for line in files[f"{service}.env"].decode().splitlines())
        assert env["WBX_RECEIPT_PUBLIC_KEY"] == public
        assert ("WBX_WORKER_RECEIPT_KEY_FILE" in env) == (service == "worker")
    pem = files["worker/receipt-key.pem"]  # only in the directory the workers alone mount
    assert [path for path, content in files.items() if pem in content] == ["worker/receipt-key.pem"]


def test_the_gateways_audit_key_is_its_alone_and_every_container_can_check_its_chain():
    files = {f.path: f.content for f in deployment_secrets(["wbx-worker"], datetime.now(UTC))}
    private = serialization.load_pem_private_key(files["gateway/audit-key.pem"], password=None)
    assert isinstance(private, Ed25519PrivateKey)
    envs = {
        service: dict(line.split("=", 1) for line in files[f"{service}.env"].decode().splitlines())
        for service in ("worker", "gateway", "admin")
    }
    for env in envs.values():
        assert json.loads(env["WBX_AUDIT_PUBLIC_KEYS"]) == [public_key_text(private.public_key())]
    assert envs["gateway"]["WBX_GATEWAY_AUDIT_KEY_FILE"] == "/run/wbx-gateway/audit-key.pem"
    assert "WBX_GATEWAY_AUDIT_KEY_FILE" not in envs["worker"]
    # `wbx dpo subject` in the admin container pseudonymises as the workers do.
    secret = envs["worker"]["WBX_WORKER_PSEUDONYM_SECRET"]
    assert envs["admin"]["WBX_WORKER_PSEUDONYM_SECRET"] == secret
    assert "WBX_WORKER_PSEUDONYM_SECRET" not in envs["gateway"]
    pem = files["gateway/audit-key.pem"]
    assert [path for path, content in files.items() if pem in content] == ["gateway/audit-key.pem"]
