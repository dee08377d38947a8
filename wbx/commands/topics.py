"""`wbx topics`: the topic plan as code (list it, apply it to a broker)."""

from __future__ import annotations

import asyncio

import click
from aiokafka.errors import KafkaError

from schemas.errors import WbxError
from schemas.settings import KafkaSettings
from schemas.topics import TopicSpec
from wbx.broker import wait_for_broker
from wbx.topics import TopicReport, apply_topics, reference_and_plan


def planned_topics(kafka: KafkaSettings | None = None) -> list[TopicSpec]:
    """The expanded topic plan for the configured reference data's PCCs and agencies."""
    return reference_and_plan(kafka)[1]


async def reach_and_apply(kafka: KafkaSettings, timeout: float) -> TopicReport:
    """Wait for the configured broker, then apply the plan to it."""
    specs = planned_topics(kafka)  # a bad plan fails before any network wait
    await wait_for_broker(kafka.bootstrap_servers, timeout, options=kafka.client_options())
    return await apply_topics(kafka, specs)


def echo_report(report: TopicReport) -> None:
    """Print a topic report, warnings to stderr."""
    for line in report.lines():
        click.echo(line, err=line.startswith("warning"))


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
@click.option(
    "--timeout", type=float, default=10.0, show_default=True, help="Seconds to wait for Kafka."
)
def apply(timeout: float) -> None:
    """Create missing topics on the configured broker (idempotent; never deletes)."""
    kafka = KafkaSettings()
    try:
        report = asyncio.run(reach_and_apply(kafka, timeout))
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    except KafkaError as exc:
        raise click.ClickException(
            f"Kafka at {kafka.bootstrap_servers} failed: {type(exc).__name__}: {exc}"
        ) from None
    echo_report(report)


@command.command("render")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["strimzi", "acl", "kafka-cli"]),
    required=True,
    help="strimzi: KafkaTopic and KafkaUser manifests; acl: the ACLs as a table; "
    "kafka-cli: kafka-topics.sh and kafka-acls.sh commands.",
)
@click.option("--cluster", default="wbx", show_default=True, help="Strimzi Kafka cluster name.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write to this file instead of standard output.",
)
def render(fmt: str, cluster: str, output: str | None) -> None:
    """Render the topic plan and its access rules for an Apache Kafka cluster."""
    from wbx.render import acl_table, kafka_cli, strimzi_yaml

    try:
        reference, specs = reference_and_plan()
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    pccs, agencies = sorted(reference.pccs), sorted(reference.agencies)
    if fmt == "strimzi":
        text = strimzi_yaml(specs, agencies, pccs, cluster)
    elif fmt == "acl":
        text = acl_table(specs, agencies, pccs)
    else:
        text = kafka_cli(specs, agencies, pccs)
    if output is None:
        click.echo(text, nl=False)
    else:
        with open(output, "w", encoding="utf-8") as out:
            out.write(text)
        click.echo(f"written to {output}", err=True)
