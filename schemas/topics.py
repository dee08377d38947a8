"""The topic plan: names every component uses, loaded from `infra/topics.toml`."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas.errors import ConfigurationError

INGEST = "wbx.ingest.v1"
QUARANTINE = "wbx.quarantine.v1"
VERIFIED = "wbx.verified.v1"
SHARED = "wbx.shared.v1"
STATS = "wbx.stats.v1"
AUDIT = "wbx.audit.v1"
ALERT_ACKS = "wbx.alert-acks.v1"
SEEN_CHANGELOG = "wbx-seen-changelog"
ALERTS_TEMPLATE = "wbx.alerts.{pcc}.v1"
REQUIRED = (INGEST, QUARANTINE, VERIFIED, SHARED, STATS, AUDIT, ALERT_ACKS, SEEN_CHANGELOG)


def alerts_topic(pcc_id: str) -> str:
    """The alerts topic of one PCC, e.g. `wbx.alerts.pcc-trebinje.v1`."""
    return ALERTS_TEMPLATE.format(pcc=pcc_id)


class TopicSpec(BaseModel):
    """One topic of the plan."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9._{}-]+$")
    description: str
    partitions: int = Field(ge=1, le=1000)
    replication_factor: int = Field(ge=1, le=7)
    retention_ms: int = Field(ge=-1)
    cleanup_policy: Literal["delete", "compact"]
    readers: list[str]
    writers: list[str]
    per_pcc: bool = False

    def configs(self) -> dict[str, str]:
        """Topic-level Kafka configs to apply at creation."""
        return {"retention.ms": str(self.retention_ms), "cleanup.policy": self.cleanup_policy}


class _PlanFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topics: list[TopicSpec]


def load_topic_plan(path: Path, pcc_ids: Sequence[str]) -> list[TopicSpec]:
    """Load the plan and expand the per-PCC template; errors name the file and the entry."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        plan = _PlanFile.model_validate(raw)
    except FileNotFoundError:
        raise ConfigurationError(f"{path}: topic plan not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigurationError(f"{path}: {problems}") from None
    specs: list[TopicSpec] = []
    for spec in plan.topics:
        if spec.per_pcc:
            if "{pcc}" not in spec.name:
                raise ConfigurationError(f"{path}: per-PCC topic {spec.name!r} lacks '{{pcc}}'")
            specs.extend(
                spec.model_copy(update={"name": spec.name.format(pcc=pcc), "per_pcc": False})
                for pcc in pcc_ids
            )
        else:
            specs.append(spec)
    names = [s.name for s in specs]
    expected = {*REQUIRED, *(alerts_topic(p) for p in pcc_ids)}
    missing = sorted(expected - set(names))
    if missing:
        raise ConfigurationError(f"{path}: the plan lacks required topic(s) {', '.join(missing)}")
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ConfigurationError(f"{path}: topic(s) declared twice: {', '.join(duplicated)}")
    return specs
