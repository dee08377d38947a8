"""Apply the topic plan to a broker: create what is missing, report what differs."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from schemas.settings import KafkaSettings
from schemas.topics import TopicSpec

logger = logging.getLogger(__name__)


@dataclass
class TopicReport:
    """What `apply_topics` did."""

    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Human-readable summary lines."""
        out = [f"created   {n}" for n in self.created]
        out += [f"changed   {n}" for n in self.changed]
        out += [f"unchanged {n}" for n in self.unchanged]
        out += [f"warning   {w}" for w in self.warnings]
        return out


async def _partition_counts(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    if not names:
        return {}
    described = await admin.describe_topics(names)
    return {str(t["topic"]): len(t.get("partitions") or []) for t in described}


async def apply_topics(settings: KafkaSettings, specs: list[TopicSpec]) -> TopicReport:
    """Create missing topics and grow partition counts; idempotent (a second run creates none)."""
    report = TopicReport()
    admin = AIOKafkaAdminClient(request_timeout_ms=10_000, **settings.client_options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        metadata = await admin.describe_cluster()
        brokers = max(1, len(metadata.get("brokers") or []))
        missing = [s for s in specs if s.name not in existing]
        if missing:
            new = [
                NewTopic(
                    s.name,
                    s.partitions,
                    min(s.replication_factor, brokers),
                    topic_configs=s.configs(),
                )
                for s in missing
            ]
            try:
                await admin.create_topics(new)
            except TopicAlreadyExistsError:
                logger.info("some topics appeared concurrently; continuing")
            report.created = [s.name for s in missing]
        present = [s for s in specs if s.name in existing]
        counts = await _partition_counts(admin, [s.name for s in present])
        for spec in present:
            have = counts.get(spec.name, 0)
            if have >= spec.partitions:
                report.unchanged.append(spec.name)
                if have > spec.partitions:
                    report.warnings.append(
                        f"{spec.name} has {have} partitions, the plan says {spec.partitions} "
                        "(partitions cannot shrink)"
                    )
                continue
            try:
                await admin.create_partitions({spec.name: NewPartitions(spec.partitions)})
                report.changed.append(spec.name)
            except (KafkaError, KeyError, IndexError) as exc:
                report.warnings.append(
                    f"{spec.name}: could not grow from {have} to {spec.partitions} partitions "
                    f"({type(exc).__name__}: {exc})"
                )
    finally:
        await admin.close()
    return report


async def missing_topics(settings: KafkaSettings, names: list[str]) -> list[str]:
    """Which of `names` the broker does not have (for readiness checks)."""
    admin = AIOKafkaAdminClient(request_timeout_ms=5_000, **settings.client_options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
    finally:
        await admin.close()
    return [n for n in names if n not in existing]
