"""Settings shared by every component that speaks the wire contract or talks to Kafka."""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, Self

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.errors import ConfigurationError
from schemas.shredding import Shredder, load_key_store
from schemas.signed import (
    AUDIT_PURPOSE,
    RECEIPT_PURPOSE,
    REGISTRY_PURPOSE,
    key_id,
    parse_public_key,
)

INFRA_DIR = Path(__file__).resolve().parent.parent / "infra"


class ContractSettings(BaseSettings):
    """Where the contract's reference data and key registry live, and the clock window."""

    model_config = SettingsConfigDict(env_prefix="WBX_", extra="ignore")

    reference_file: Path = INFRA_DIR / "reference.toml"
    key_registry: Path = INFRA_DIR / "keys.json"
    private_key_dir: Path = Field(
        default=Path.home() / ".wbx" / "keys",
        description="where `wbx keys new` writes private keys (outside the repository)",
    )
    max_event_age: timedelta = Field(
        default=timedelta(days=30),
        description="Events whose `time` is older than this are rejected as too_old_or_future.",
    )
    max_clock_skew: timedelta = Field(
        default=timedelta(minutes=5),
        description="Events whose `time` is further than this in the future are rejected.",
    )
    registry_public_key: str | None = Field(
        default=None,
        description="the registry key's public half (raw Ed25519, base64url): only key "
        "changes on wbx.keys.v1 it signed are applied; unset = the topic is ignored",
    )
    receipt_public_key: str | None = Field(
        default=None,
        description="the platform's receipt key (raw Ed25519, base64url): receipts are "
        "checked against it (`wbx receipts --verify`, the publisher library)",
    )
    audit_public_keys: list[str] = Field(
        default_factory=list,
        description="the gateways' audit keys (raw Ed25519, base64url, as a JSON list): "
        "`wbx audit verify` trusts records they signed, besides the receipt and registry keys",
    )
    retention_keys_dir: Path = Field(
        default=Path("var/retention-keys"),
        description="the file store of the retention-day keys (crypto-shredding): every "
        "worker and gateway of a deployment must see the same directory",
    )
    retention_key_store: str = Field(
        default="",
        description="`module:Class` of another key store (a vault), built with "
        "WBX_RETENTION_KEYS_DIR; empty = the file store",
    )
    registry_private_key: Path = Field(
        default=Path.home() / ".wbx" / "registry.pem",
        description="the registry key `wbx keys` signs changes with (operators only)",
    )
    registry_log: Path | None = Field(
        default=None,
        description="a file of signed key changes the CLI reads and writes instead of the "
        "wbx.keys.v1 topic (offline use; `wbx keys export/import` carry it)",
    )
    ptable_file: Path = Field(
        default=INFRA_DIR / "ptable.toml",
        description="the perturbation table every published statistic goes through (the "
        "worker's topic and the gateway's tables must use the same one)",
    )
    key_grace: timedelta = Field(
        default=timedelta(minutes=5),
        description="A retired key still verifies records received this long after its "
        "valid_until (records in flight when it was retired).",
    )

    def shredder(self) -> Shredder:
        """The retention keys of this deployment, behind the deadline rule."""
        return Shredder(load_key_store(self.retention_key_store, self.retention_keys_dir))

    def audit_trust(self) -> dict[str, Ed25519PublicKey]:
        """The keys whose signatures count on the audit trail, by signer id: the platform
        (receipt) key of the workers, the gateways' audit keys and the registry key (the
        admin CLI records key changes with it)."""
        named = [
            ("WBX_RECEIPT_PUBLIC_KEY", RECEIPT_PURPOSE, self.receipt_public_key),
            ("WBX_REGISTRY_PUBLIC_KEY", REGISTRY_PURPOSE, self.registry_public_key),
            *(("WBX_AUDIT_PUBLIC_KEYS", AUDIT_PURPOSE, k) for k in self.audit_public_keys),
        ]
        trusted: dict[str, Ed25519PublicKey] = {}
        for setting, purpose, text in named:
            if text is None:
                continue
            try:
                public = parse_public_key(text)
            except ValueError as exc:
                raise ConfigurationError(f"{setting} holds {exc}") from None
            trusted[key_id(public, purpose)] = public
        return trusted

    def receipt_key(self) -> Ed25519PublicKey | None:
        """The platform's receipt key, if configured; ConfigurationError naming the setting
        when it is not a key."""
        if self.receipt_public_key is None:
            return None
        try:
            return parse_public_key(self.receipt_public_key)
        except ValueError as exc:
            raise ConfigurationError(f"WBX_RECEIPT_PUBLIC_KEY is {exc}") from None


class KafkaSettings(BaseSettings):
    """How to reach Kafka: a named cluster, or the embedded broker when none is named."""

    model_config = SettingsConfigDict(env_prefix="WBX_KAFKA_", extra="ignore")

    bootstrap: str | None = Field(
        default=None,
        description="bootstrap servers of an Apache Kafka cluster; unset = embedded broker",
    )
    embedded_host: str = "127.0.0.1"
    embedded_port: int = 19092
    idempotence: bool | None = Field(
        default=None,
        description="idempotent producers; unset = on for a named cluster, off for embedded",
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = Field(
        default=None, description="CA certificate(s) that signed the brokers' certificates"
    )
    ssl_certfile: Path | None = Field(
        default=None, description="this client's certificate, for TLS client authentication"
    )
    ssl_keyfile: Path | None = Field(default=None, description="the private key of ssl_certfile")
    ssl_key_password: SecretStr | None = None
    topics_file: Path = INFRA_DIR / "topics.toml"
    client_id: str = "wbx"
    fetch_max_wait_ms: int = Field(
        default=50,
        gt=0,
        le=1500,
        description="the longest a fetch of a WBX consumer waits for data: Kafka answers as "
        "soon as data arrives, the embedded broker holds the fetch this long, which delays "
        "each record by up to this much per hop (faust's own value is 1,500)",
    )

    @property
    def embedded(self) -> bool:
        """True when no cluster is named, so WBX runs (or expects) its own broker."""
        return self.bootstrap is None

    @property
    def bootstrap_servers(self) -> str:
        """The bootstrap string clients should use."""
        return self.bootstrap or f"{self.embedded_host}:{self.embedded_port}"

    @model_validator(mode="after")
    def _security_is_complete(self) -> Self:
        sasl = self.security_protocol.startswith("SASL_")
        if sasl and not (self.sasl_mechanism and self.sasl_username and self.sasl_password):
            raise ValueError(
                f"security_protocol {self.security_protocol} needs WBX_KAFKA_SASL_MECHANISM, "
                "WBX_KAFKA_SASL_USERNAME and WBX_KAFKA_SASL_PASSWORD"
            )
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ValueError("WBX_KAFKA_SSL_CERTFILE and WBX_KAFKA_SSL_KEYFILE go together")
        return self

    @property
    def uses_tls(self) -> bool:
        """Whether the connection to the brokers is encrypted."""
        return self.security_protocol in ("SSL", "SASL_SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context of every WBX client (None without TLS): the CA to trust, and
        this client's certificate when the cluster authenticates clients by certificate."""
        if not self.uses_tls:
            return None
        context = ssl.create_default_context(
            cafile=str(self.ssl_cafile) if self.ssl_cafile else None
        )
        if self.ssl_certfile is not None and self.ssl_keyfile is not None:
            password = self.ssl_key_password
            context.load_cert_chain(
                str(self.ssl_certfile),
                str(self.ssl_keyfile),
                password.get_secret_value() if password is not None else None,
            )
        return context

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments every aiokafka client needs to reach the cluster securely."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "client_id": self.client_id,
            "security_protocol": self.security_protocol,
        }
        context = self.ssl_context()
        if context is not None:
            options["ssl_context"] = context
        if self.sasl_mechanism:
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.sasl_username
            if self.sasl_password is not None:
                options["sasl_plain_password"] = self.sasl_password.get_secret_value()
        return options

    def reader(self) -> AIOKafkaConsumer:
        """A consumer that reads assigned partitions from their beginning, commits nothing
        and waits at most `fetch_max_wait_ms` in a fetch (not started)."""
        return AIOKafkaConsumer(
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self.fetch_max_wait_ms,
            **self.client_options(),
        )

    async def missing_topics(self, names: Iterable[str], timeout_ms: int = 5_000) -> list[str]:
        """Which of `names` the cluster lacks; creates nothing, raises when unreachable.

        The one topic-existence query of WBX (readiness, `wbx topics`): it lists topics and
        never describes them by name, because naming a missing topic in a metadata request
        makes the embedded broker create it.
        """
        admin = AIOKafkaAdminClient(request_timeout_ms=timeout_ms, **self.client_options())
        await admin.start()
        try:
            existing = set(await admin.list_topics())
        finally:
            await admin.close()
        return [name for name in names if name not in existing]

    @property
    def use_idempotence(self) -> bool:
        """Whether producers should ask for idempotence (the embedded broker cannot)."""
        return (not self.embedded) if self.idempotence is None else self.idempotence
