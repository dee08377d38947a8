"""Apply the topic plan to a broker: create what is missing, grow partitions, report drift."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from schemas.errors import WbxError
from schemas.reference import ReferenceData, load_reference
from schemas.settings import ContractSettings, KafkaSettings
from schemas.topics import TopicSpec, load_topic_plan

logger = logging.getLogger(__name__)


def reference_and_plan(
    kafka: KafkaSettings | None = None, contract: ContractSettings | None = None
) -> tuple[ReferenceData, list[TopicSpec]]:
    """The configured reference data and the topic plan expanded for its PCCs and agencies."""
    kafka = kafka or KafkaSettings()
    reference = load_reference((contract or ContractSettings()).reference_file)
    plan = load_topic_plan(kafka.topics_file, sorted(reference.pccs), sorted(reference.agencies))
    return reference, plan


class TopicApplyError(WbxError):
    """The broker refused to create one or more planned topics."""


@dataclass
class TopicReport:
    """What `apply_topics` did, topic by topic."""

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


@dataclass(frozen=True)
class _Layout:
    partitions: int
    replication: int


def _admin(settings: KafkaSettings, request_timeout_ms: int) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(request_timeout_ms=request_timeout_ms, **settings.client_options())


async def _layouts(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, _Layout]:
    """Partition count and replication of topics known to exist.

    Only ever called with existing names: a metadata request naming an unknown topic makes
    Tansu create it (aiokafka sends allow_auto_topic_creation=true).
    """
    if not names:
        return {}
    layouts: dict[str, _Layout] = {}
    for topic in await admin.describe_topics(names):
        partitions: list[dict[str, Any]] = topic.get("partitions") or []
        replication = min((len(p.get("replicas") or []) for p in partitions), default=0)
        layouts[str(topic["topic"])] = _Layout(len(partitions), replication)
    return layouts


async def _create(
    admin: AIOKafkaAdminClient, specs: list[TopicSpec], brokers: int, report: TopicReport
) -> None:
    new = [
        NewTopic(
            s.name, s.partitions, min(s.replication_factor, brokers), topic_configs=s.configs()
        )
        for s in specs
    ]
    response = await admin.create_topics(new)
    # aiokafka returns per-topic error codes instead of raising.
    failures = []
    for topic, code, *rest in response.topic_errors:
        if code == 0:
            report.created.append(topic)
        elif for_code(code) is TopicAlreadyExistsError:
            logger.info("topic %s was created concurrently", topic)
            report.unchanged.append(topic)
        else:
            message = rest[0] if rest and rest[0] else for_code(code).__name__
            failures.append(f"{topic}: {message} (error {code})")
    if failures:
        raise TopicApplyError("the broker refused to create: " + "; ".join(failures))


async def _grow(
    admin: AIOKafkaAdminClient, spec: TopicSpec, have: int, report: TopicReport
) -> None:
    try:
        await admin.create_partitions({spec.name: NewPartitions(spec.partitions)})
    except KafkaError as exc:
        # Tansu does not offer CreatePartitions, which aiokafka reports as
        # IncompatibleBrokerVersion; a plan must still apply there.
        report.warnings.append(
            f"{spec.name}: could not grow from {have} to {spec.partitions} partitions "
            f"({type(exc).__name__}: {exc})"
        )
        return
    # Trust the topic, not the answer: some brokers answer with an empty result.
    now = (await _layouts(admin, [spec.name]))[spec.name].partitions
    if now >= spec.partitions:
        report.changed.append(spec.name)
    else:
        report.warnings.append(
            f"{spec.name}: the broker accepted growing to {spec.partitions} partitions "
            f"but the topic still has {now}"
        )


async def apply_topics(settings: KafkaSettings, specs: list[TopicSpec]) -> TopicReport:
    """Create missing topics and grow partition counts; idempotent (a second run creates none)."""
    report = TopicReport()
    admin = _admin(settings, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        brokers = max(1, len((await admin.describe_cluster()).get("brokers") or []))
        capped = sorted({s.replication_factor for s in specs if s.replication_factor > brokers})
        if capped:
            note = f"replication capped to {brokers}: the cluster has {brokers} broker(s)"
            if settings.embedded:
                logger.info(note)
            else:
                report.warnings.append(note)
        missing = [s for s in specs if s.name not in existing]
        if missing:
            await _create(admin, missing, brokers, report)
        present = [s for s in specs if s.name in existing]
        layouts = await _layouts(admin, [s.name for s in present])
        for spec in present:
            layout = layouts.get(spec.name, _Layout(0, 0))
            wanted_replication = min(spec.replication_factor, brokers)
            if layout.replication < wanted_replication:
                report.warnings.append(
                    f"{spec.name}: replication {layout.replication}, the plan wants "
                    f"{wanted_replication} (reassign partitions to fix; not done automatically)"
                )
            if layout.partitions < spec.partitions:
                await _grow(admin, spec, layout.partitions, report)
                continue
            if layout.partitions > spec.partitions:
                report.warnings.append(
                    f"{spec.name} has {layout.partitions} partitions, the plan says "
                    f"{spec.partitions} (partitions cannot shrink)"
                )
            report.unchanged.append(spec.name)
    finally:
        await admin.close()
    logger.info(
        "topic plan applied: %d created, %d changed, %d unchanged, %d warning(s)",
        len(report.created),
        len(report.changed),
        len(report.unchanged),
        len(report.warnings),
    )
    return report
