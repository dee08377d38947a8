"""`wbx topics`: the topic plan as code (list it, apply it to a broker)."""

from __future__ import annotations

import asyncio

import click

from schemas.errors import WbxError
from schemas.reference import load_reference
from schemas.settings import ContractSettings, KafkaSettings
from schemas.topics import TopicSpec, load_topic_plan
from wbx.topics import apply_topics


def planned_topics(kafka: KafkaSettings | None = None) -> list[TopicSpec]:
    """The expanded topic plan for the configured reference data's PCCs."""
    kafka = kafka or KafkaSettings()
    reference = load_reference(ContractSettings().reference_file)
    return load_topic_plan(kafka.topics_file, sorted(reference.pccs))


@click.group("topics")
def command() -> None:
    """Show or apply the declarative topic plan (infra/topics.toml)."""


@command.command("list")
def list_topics() -> None:
    """Print the plan: name, partitions, replication, retention, cleanup, access."""
    try:
        specs = planned_topics()
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    for s in specs:
        click.echo(
            f"{s.name}\tpartitions={s.partitions}\treplication={s.replication_factor}\t"
            f"retention_ms={s.retention_ms}\tcleanup={s.cleanup_policy}\t"
            f"writers={','.join(s.writers)}\treaders={','.join(s.readers)}"
        )


@command.command("apply")
def apply() -> None:
    """Create missing topics on the configured broker (idempotent)."""
    kafka = KafkaSettings()
    try:
        report = asyncio.run(apply_topics(kafka, planned_topics(kafka)))
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:  # aiokafka raises many kinds when the broker is unreachable
        raise click.ClickException(
            f"cannot reach Kafka at {kafka.bootstrap_servers} ({type(exc).__name__}: {exc}); "
            "start one with `wbx broker` or set WBX_KAFKA_BOOTSTRAP"
        ) from None
    for line in report.lines():
        click.echo(line)
