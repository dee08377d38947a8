"""`wbx broker`: run the embedded broker in the foreground with the topic plan applied."""

from __future__ import annotations

import asyncio
import signal
import threading

import click

from schemas.errors import WbxError
from schemas.settings import KafkaSettings
from wbx.broker import EmbeddedBroker
from wbx.commands.topics import planned_topics
from wbx.topics import apply_topics


@click.command("broker")
@click.option("--host", default=None, help="Listen address (default WBX_KAFKA_EMBEDDED_HOST).")
@click.option("--port", type=int, default=None, help="Port (default WBX_KAFKA_EMBEDDED_PORT).")
@click.option(
    "--apply-topics/--no-apply-topics",
    "apply_topics_flag",
    default=True,
    help="Create the planned topics.",
)
def command(host: str | None, port: int | None, apply_topics_flag: bool) -> None:
    """Run the embedded Kafka-compatible broker until Ctrl-C (memory only: data is lost)."""
    kafka = KafkaSettings()
    if not kafka.embedded:
        click.echo(f"WBX_KAFKA_BOOTSTRAP names a cluster ({kafka.bootstrap}); starting nothing.")
        return
    broker = EmbeddedBroker(host or kafka.embedded_host, port or kafka.embedded_port)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        broker.start()
        if apply_topics_flag:
            settings = kafka.model_copy(update={"bootstrap": broker.bootstrap})
            report = asyncio.run(apply_topics(settings, planned_topics(settings)))
            click.echo(f"topics: {len(report.created)} created, {len(report.unchanged)} present")
        click.echo(f"broker ready on {broker.bootstrap} (Ctrl-C stops it)")
        while not stop.wait(0.5):
            if not broker.running:
                raise click.ClickException("the embedded broker exited unexpectedly")
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        broker.stop()
    click.echo("broker stopped")
