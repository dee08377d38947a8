"""Settings of the stream worker (env prefix WBX_WORKER_)."""

from __future__ import annotations

import logging
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.errors import ConfigurationError
from schemas.settings import INFRA_DIR

logger = logging.getLogger(__name__)

# Deliberately public: pseudonyms made with it protect nothing, so it is refused off the
# embedded broker.
# pragma: allowlist nextline secret
_DEV_SECRET = "wbx-development-only-pseudonym-secret"  # noqa: S105


class Hops(StrEnum):
    """Which hops a worker process runs (docs/processing.md, "Scaling out")."""

    BOTH = "both"
    VERIFY = "verify"
    AGGREGATE = "aggregate"


class WorkerSettings(BaseSettings):
    """How the stream worker processes events."""

    model_config = SettingsConfigDict(env_prefix="WBX_WORKER_", extra="ignore")

    app_id: str = "wbx"
    hops: Hops = Field(
        default=Hops.BOTH,
        description="both hops in one process, or one of them: hop 1 (verify) scales with the "
        "ingest partitions, hop 2 (aggregate) has one owner; run one kind per process so the "
        "two hops use two cores. Hop 2 processes form their own consumer group",
    )
    data_dir: Path = Path("var/worker")
    policy_file: Path = INFRA_DIR / "policy.toml"
    alert_rules_file: Path = INFRA_DIR / "alert_rules.toml"
    pseudonym_secret: SecretStr | None = Field(
        default=None, description="regional HMAC secret for pseudonyms; required on a real cluster"
    )
    pseudonym_key_id: str = Field(default="dev", pattern=r"^[A-Za-z0-9_-]{1,32}$")
    replay_horizon: timedelta = Field(
        default=timedelta(days=31),
        description="how long (source, id) pairs are remembered to drop replays",
    )
    stats_lateness: timedelta = Field(
        default=timedelta(days=7), description="how late an event may still update its window"
    )
    state_horizon: timedelta = Field(
        default=timedelta(days=31),
        description="how long hop 2 remembers the events it applied and the alerts it sent, "
        "in event time; at least stats_lateness, and by default the maximum event age, so "
        "that every event the contract accepts still reaches the alert rules exactly once",
    )
    stats_flush_interval: float = Field(default=1.0, gt=0)
    max_record_bytes: int = Field(default=1_048_576, gt=0)
    key_fresh_wait: float = Field(
        default=5.0,
        gt=0,
        description="seconds the Verify stage waits for the key registry feed to have read "
        "every change made before a record's receipt time (then it goes on, and counts it)",
    )
    max_receipt_delay: timedelta = Field(
        default=timedelta(days=7),
        description="how far back a record's Kafka timestamp is trusted as its receipt time "
        "(older ones count as received this long ago)",
    )
    rebalance_timeout: float = Field(default=5.0, gt=0)
    producer_linger_ms: int = Field(
        default=10,
        ge=0,
        le=1000,
        description="How long the producer gathers records into one request (each hop's "
        "added latency at most); a request a record costs a third of hop 1's throughput",
    )
    receipt_key_file: Path = Field(
        default=Path("var/worker/receipt-key.pem"),
        description="the platform key: Ed25519, signs the senders' receipts and the audit "
        "trail (created on first use); every worker and gateway of a deployment has the same",
    )
    audit_checkpoint_interval: float = Field(
        default=60.0,
        gt=0,
        description="seconds between checkpoints of the worker's audit chains "
        "(published only when a chain moved)",
    )
    stall_after: float = Field(
        default=60.0,
        gt=0,
        description="seconds an assigned partition may be behind without being read before "
        "the worker reports it stalled (log, wbx_consumer_partition_stalled, /readyz)",
    )
    static_membership: bool = Field(
        default=True,
        description="join the consumer group as a static member (KIP-345), so a worker "
        "restarted after a crash takes its predecessor's place and partitions at once instead "
        "of waiting for the group to expire the dead member",
    )
    instance_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._-]{1,200}$",
        description="the static member's name in its group; by default the host name and "
        "the lowest instance slot free in the data directory on this host (-0, -1, ...)",
    )
    metrics_port: int = Field(default=9464, ge=0, description="0 disables the metrics server")
    metrics_host: str = Field(
        default="127.0.0.1",
        description="Interface of the metrics and probe server; 0.0.0.0 in a container, so "
        "Prometheus and the orchestrator's probes reach it",
    )
    log_level: str = "info"

    @property
    def group_id(self) -> str:
        """The faust app id (consumer group) of this worker: hop 2 alone has its own group,
        so a hop-1 process never takes `wbx.shared.v1` and the other way round."""
        return f"{self.app_id}-aggregate" if self.hops is Hops.AGGREGATE else self.app_id

    @model_validator(mode="after")
    def _horizon_covers_lateness(self) -> Self:
        if self.state_horizon < self.stats_lateness:
            raise ValueError(
                f"state_horizon ({self.state_horizon}) must be at least stats_lateness "
                f"({self.stats_lateness}): a forgotten event could be counted twice"
            )
        return self

    def pseudonym_secret_bytes(self, embedded_broker: bool) -> bytes:
        """The HMAC secret; a development default only on the embedded broker."""
        if self.pseudonym_secret is not None:
            return self.pseudonym_secret.get_secret_value().encode("utf-8")
        if not embedded_broker:
            raise ConfigurationError(
                "set WBX_WORKER_PSEUDONYM_SECRET: a real cluster needs the regional secret"
            )
        logger.warning("using the development pseudonym secret (embedded broker only)")
        return _DEV_SECRET.encode("utf-8")
