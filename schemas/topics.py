"""The topic plan: names every component uses, loaded from `infra/topics.toml`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from schemas.config_files import read_toml
from schemas.errors import ConfigurationError, join_items, validation_items

INGEST = "wbx.ingest.v1"
QUARANTINE = "wbx.quarantine.v1"
VERIFIED = "wbx.verified.v1"
SHARED = "wbx.shared.v1"
STATS = "wbx.stats.v1"
STATS_FINE = "wbx.stats.fine.v1"
AUDIT = "wbx.audit.v1"
AUDIT_CHECKPOINTS = "wbx.audit.checkpoints.v1"
ALERT_ACKS = "wbx.alert-acks.v1"
KEYS = "wbx.keys.v1"
# faust names a table's changelog `<app id>-<table>-changelog`; the plan declares it so its
# partition count is decided here, co-partitioned with ingest, not by faust's default.
SEEN_CHANGELOG = "wbx-seen-changelog"
ALERTS_TEMPLATE = "wbx.alerts.{pcc}.v1"
RECEIPTS_TEMPLATE = "wbx.receipts.{agency}.v1"
REQUIRED = (INGEST, QUARANTINE, VERIFIED, SHARED, STATS, STATS_FINE, AUDIT, AUDIT_CHECKPOINTS,
            ALERT_ACKS, KEYS, SEEN_CHANGELOG)  # fmt: skip

# Kafka's own rule for topic names (legal characters, at most 249 of them).
_KAFKA_NAME = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
_PCC_ID = re.compile(r"^[a-z0-9-]+$")
_AGENCY_ID = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)*$")


class TopicPlanError(ConfigurationError):
    """The topic plan file is missing, malformed or does not declare exactly WBX's topics."""


def alerts_topic(pcc_id: str) -> str:
    """The alerts topic of one PCC, e.g. `wbx.alerts.pcc-trebinje.v1`."""
    if not _PCC_ID.match(pcc_id):
        raise TopicPlanError(f"PCC id {pcc_id!r} cannot be part of a topic name")
    return ALERTS_TEMPLATE.format(pcc=pcc_id)


def receipts_topic(agency_id: str) -> str:
    """The receipts topic of one agency, e.g. `wbx.receipts.rs-bp.v1` (it alone reads it)."""
    if not _AGENCY_ID.match(agency_id):
        raise TopicPlanError(f"agency id {agency_id!r} cannot be part of a topic name")
    return RECEIPTS_TEMPLATE.format(agency=agency_id.lower())


class TopicSpec(BaseModel):
    """One topic of the plan (after expansion, one concrete Kafka topic)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9._{}-]{1,249}$")
    description: str = Field(min_length=1)
    partitions: int = Field(ge=1, le=1000)
    replication_factor: int = Field(ge=1, le=7)
    retention_ms: int = Field(ge=-1, description="-1 keeps records forever")
    cleanup_policy: Literal["delete", "compact"]
    readers: list[str] = Field(min_length=1)
    writers: list[str] = Field(min_length=1)
    per_pcc: bool = False
    per_agency: bool = False
    timestamp_type: Literal["CreateTime", "LogAppendTime"] = Field(
        default="CreateTime",
        description="LogAppendTime: the broker stamps each record when it appends it",
    )

    @model_validator(mode="after")
    def _template_only_when_per_pcc_or_agency(self) -> Self:
        if self.per_pcc and self.per_agency:
            raise ValueError("a topic is per PCC or per agency, not both")
        if self.per_pcc and self.name != ALERTS_TEMPLATE:
            raise ValueError(f"the only per-PCC topic is {ALERTS_TEMPLATE!r}")
        if self.per_agency and self.name != RECEIPTS_TEMPLATE:
            raise ValueError(f"the only per-agency topic is {RECEIPTS_TEMPLATE!r}")
        if not (self.per_pcc or self.per_agency) and not _KAFKA_NAME.match(self.name):
            raise ValueError("'{pcc}' or '{agency}' in a name needs per_pcc or per_agency = true")
        return self

    def configs(self) -> dict[str, str]:
        """Topic-level Kafka configs to apply at creation."""
        return {
            "retention.ms": str(self.retention_ms),
            "cleanup.policy": self.cleanup_policy,
            "message.timestamp.type": self.timestamp_type,
        }


def _entry_label(raw: Any, index: int) -> str:
    """`topics[2] (wbx.verified.v1)`: an entry named the way a reader finds it in the file."""
    entries = raw.get("topics") if isinstance(raw, dict) else None
    name = None
    if isinstance(entries, list) and index < len(entries) and isinstance(entries[index], dict):
        name = entries[index].get("name")
    return f"topics[{index}]" + (f" ({name})" if isinstance(name, str) else "")


def _validation_message(raw: Any, exc: ValidationError) -> str:
    errors = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        if len(loc) >= 2 and loc[0] == "topics" and isinstance(loc[1], int):
            loc = (_entry_label(raw, loc[1]), *loc[2:])
        errors.append({**error, "loc": loc})
    return join_items(validation_items(errors), root="<file>")


class _PlanFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topics: list[TopicSpec] = Field(min_length=1)


def _read_plan(path: Path) -> _PlanFile:
    raw = read_toml(path, "topic plan", TopicPlanError)
    try:
        return _PlanFile.model_validate(raw)
    except ValidationError as exc:
        raise TopicPlanError(f"{path}: {_validation_message(raw, exc)}") from None


def load_topic_plan(
    path: Path, pcc_ids: Sequence[str], agency_ids: Sequence[str]
) -> list[TopicSpec]:
    """Load the plan and expand the per-PCC and per-agency templates (the reference data's
    PCCs and agencies); errors name the file and the entry."""
    plan = _read_plan(path)
    try:
        alert_names = [alerts_topic(pcc) for pcc in pcc_ids]
        receipt_names = [receipts_topic(agency) for agency in agency_ids]
    except TopicPlanError as exc:
        raise TopicPlanError(f"{path}: {exc}") from None
    specs: list[TopicSpec] = []
    for spec in plan.topics:
        if spec.per_pcc or spec.per_agency:
            names = alert_names if spec.per_pcc else receipt_names
            update = {"per_pcc": False, "per_agency": False}
            specs.extend(spec.model_copy(update={"name": name, **update}) for name in names)
        else:
            specs.append(spec)
    names = [s.name for s in specs]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise TopicPlanError(f"{path}: topic(s) declared twice: {', '.join(duplicated)}")
    if not any(s.per_pcc for s in plan.topics):
        raise TopicPlanError(f"{path}: the plan lacks the per-PCC entry {ALERTS_TEMPLATE!r}")
    if not any(s.per_agency for s in plan.topics):
        raise TopicPlanError(f"{path}: the plan lacks the per-agency entry {RECEIPTS_TEMPLATE!r}")
    expected = {*REQUIRED, *alert_names, *receipt_names}
    missing = sorted(expected - set(names))
    if missing:
        raise TopicPlanError(f"{path}: the plan lacks required topic(s) {', '.join(missing)}")
    unknown = sorted(set(names) - expected)
    if unknown:
        # Every topic needs a constant here, or code would start spelling names twice.
        raise TopicPlanError(
            f"{path}: topic(s) {', '.join(unknown)} have no name constant in schemas.topics"
        )
    return specs
