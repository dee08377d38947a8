"""The secrets of the compose deployment: a CA, the brokers' certificates, SCRAM passwords.

`infra/deploy/compose/compose.yaml` mounts what this module writes and nothing else, so
the one command `wbx deploy secrets` makes a fresh checkout deployable. Pure: the
principals and the clock in, a list of files out; the command writes them.

Layout under the secrets directory (each subdirectory is bind-mounted into the containers
that need it, read-only, at `/run/wbx`):

* `ca/ca.key`: the CA's private key. Never mounted; keep it to issue more certificates.
* `kafka/`: what the brokers and the topic-setup job see: `ca.crt`, `kafka-<n>.pem`
  (key and certificate chain of node n), `cluster-id`, `admin.properties` (the brokers'
  own super-user client configuration), `scram/<principal>` (one password per principal;
  the nodes load them into the metadata log when they format their storage).
* `wbx/ca.crt`: the CA the WBX containers trust.
* `worker/receipt-key.pem`: the key every worker signs the senders' receipts and its audit
  chains with (mounted into the workers only, at `/run/wbx-worker`); its public half is in
  each `.env`.
* `gateway/audit-key.pem`: the key every gateway signs its audit chain with (mounted into
  the gateway only, at `/run/wbx-gateway`); its public half is in each `.env`.
* `worker.env`, `gateway.env`, `admin.env`: the `WBX_*` credentials of each WBX
  container; `grafana.env`: Grafana's admin password.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from schemas.signed import public_key_text

BROKER_PRINCIPAL = "wbx-broker"
"""The brokers' own SCRAM user (inter-broker traffic, topic setup); a super user."""

NODES = 3
"""Kafka nodes of the compose cluster (each both broker and KRaft controller)."""

CERT_LIFETIME = timedelta(days=825)
"""How long the generated certificates stay valid; renew with `--force` before then."""

MOUNT = "/run/wbx"
"""Where the containers see their subdirectory of secrets."""

WORKER_MOUNT = "/run/wbx-worker"
"""Where the workers alone see theirs (the receipt key)."""

GATEWAY_MOUNT = "/run/wbx-gateway"
"""Where the gateway alone sees its own (the audit key)."""

SCRAM_MECHANISM = "SCRAM-SHA-512"

CONTAINERS = (("worker", "wbx-worker"), ("gateway", "wbx-gateway"), ("admin", "wbx-admin"))
"""The WBX containers of the compose file and the principal each connects as."""


@dataclass(frozen=True)
class SecretFile:
    """One file to write: its path under the secrets directory and its content."""

    path: str
    content: bytes


def node_name(node: int) -> str:
    """The compose service (and certificate CN) of Kafka node `node` (1-based)."""
    return f"kafka-{node}"


def bootstrap(port: int = 9093) -> str:
    """The client bootstrap list of the compose cluster."""
    return ",".join(f"{node_name(n)}:{port}" for n in range(1, NODES + 1))


def _pem_key(key: ec.EllipticCurvePrivateKey | Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _certificate_authority(now: datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "WBX deployment CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + CERT_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _node_certificate(
    ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate, name: str, now: datetime
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + CERT_LIFETIME)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name), x509.DNSName("localhost")]),
            critical=False,
        )
        # Server for clients, client for the controller quorum (mutual TLS between nodes).
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def jaas(username: str, password: str) -> str:
    """A SCRAM `sasl.jaas.config` value."""
    return (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{username}" password="{password}";'
    )


def _client_env(principal: str, password: str, extra: dict[str, str] | None = None) -> bytes:
    lines = [
        f"WBX_KAFKA_SASL_USERNAME={principal}",
        f"WBX_KAFKA_SASL_PASSWORD={password}",
        *(f"{key}={value}" for key, value in (extra or {}).items()),
    ]
    return ("\n".join(lines) + "\n").encode()


def deployment_secrets(principals: Sequence[str], now: datetime) -> list[SecretFile]:
    """Every secret file of the compose deployment for these Kafka principals.

    `principals` are those of the rendered ACLs; the brokers' and containers' own users are
    added. Each gets
    a fresh random password, so two calls never give the same secrets."""
    ca_key, ca = _certificate_authority(now)
    files = [SecretFile("ca/ca.key", _pem_key(ca_key))]
    files.append(SecretFile("kafka/ca.crt", _pem_cert(ca)))
    files.append(SecretFile("wbx/ca.crt", _pem_cert(ca)))
    for node in range(1, NODES + 1):
        key, cert = _node_certificate(ca_key, ca, node_name(node), now)
        files.append(SecretFile(f"kafka/{node_name(node)}.pem", _pem_key(key) + _pem_cert(cert)))
    # KRaft wants a base64url-encoded 16-byte id, as `kafka-storage.sh random-uuid` prints.
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=")
    files.append(SecretFile("kafka/cluster-id", cluster_id + b"\n"))
    names = {*principals, BROKER_PRINCIPAL, *(principal for _, principal in CONTAINERS)}
    passwords = {name: secrets.token_urlsafe(24) for name in names}
    for name, password in sorted(passwords.items()):
        files.append(SecretFile(f"kafka/scram/{name}", password.encode()))
    admin = "\n".join(
        [
            "security.protocol=SASL_SSL",
            f"sasl.mechanism={SCRAM_MECHANISM}",
            f"sasl.jaas.config={jaas(BROKER_PRINCIPAL, passwords[BROKER_PRINCIPAL])}",
            "ssl.truststore.type=PEM",
            f"ssl.truststore.location={MOUNT}/ca.crt",
        ]
    )
    files.append(SecretFile("kafka/admin.properties", (admin + "\n").encode()))
    receipt_key = Ed25519PrivateKey.generate()
    files.append(SecretFile("worker/receipt-key.pem", _pem_key(receipt_key)))
    audit_key = Ed25519PrivateKey.generate()
    files.append(SecretFile("gateway/audit-key.pem", _pem_key(audit_key)))
    public = {
        "WBX_RECEIPT_PUBLIC_KEY": public_key_text(receipt_key.public_key()),
        "WBX_AUDIT_PUBLIC_KEYS": json.dumps([public_key_text(audit_key.public_key())]),
    }
    # Every worker must pseudonymise with the same secret, or hop 2 could not join records,
    # and sign receipts with the same key, or senders could not check them against one. The
    # admin container has the secret too: `wbx dpo subject` computes a person's pseudonym.
    pseudonyms = {"WBX_WORKER_PSEUDONYM_SECRET": secrets.token_urlsafe(32)}
    extras = {
        "worker": {
            **pseudonyms,
            "WBX_WORKER_RECEIPT_KEY_FILE": f"{WORKER_MOUNT}/receipt-key.pem",
            **public,
        },
        "gateway": {"WBX_GATEWAY_AUDIT_KEY_FILE": f"{GATEWAY_MOUNT}/audit-key.pem", **public},
        "admin": {**pseudonyms, **public},
    }
    for service, principal in CONTAINERS:
        extra = extras[service]
        env = _client_env(principal, passwords[principal], extra)
        files.append(SecretFile(f"{service}.env", env))
    grafana = f"GF_SECURITY_ADMIN_PASSWORD={secrets.token_urlsafe(18)}\n"
    files.append(SecretFile("grafana.env", grafana.encode()))
    return files


__all__ = ["BROKER_PRINCIPAL", "MOUNT", "NODES", "SecretFile", "bootstrap", "deployment_secrets",
           "jaas", "node_name"]  # fmt: skip
