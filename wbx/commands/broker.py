"""`wbx broker`: run the embedded broker in the foreground with the topic plan applied."""

from __future__ import annotations

import asyncio
import signal
import threading
from types import FrameType

import click
from aiokafka.errors import KafkaError

from schemas.errors import WbxError
from schemas.settings import KafkaSettings
from wbx.broker import EmbeddedBroker
from wbx.commands.topics import echo_report, planned_topics
from wbx.topics import apply_topics


@click.command("broker")
@click.option("--host", default=None, help="Listen address (default WBX_KAFKA_EMBEDDED_HOST).")
@click.option("--port", type=int, default=None, help="Port (default WBX_KAFKA_EMBEDDED_PORT).")
@click.option(
    "--apply-topics/--no-apply-topics",
    "apply_topics_flag",
    default=True,
    show_default=True,
    help="Create the planned topics once the broker is up.",
)
def command(host: str | None, port: int | None, apply_topics_flag: bool) -> None:
    """Run the embedded Kafka-compatible broker until Ctrl-C (memory only: data is lost)."""
    kafka = KafkaSettings()
    if not kafka.embedded:
        click.echo(f"WBX_KAFKA_BOOTSTRAP names a cluster ({kafka.bootstrap}); starting nothing.")
        return
    host = host if host is not None else kafka.embedded_host
    port = port if port is not None else kafka.embedded_port
    try:
        # Load the plan first: a bad plan should fail before a broker is started.
        specs = planned_topics(kafka) if apply_topics_flag else []
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    broker = EmbeddedBroker(host, port)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        broker.start()
        if specs:
            # Still "embedded" settings, so capping replication to 1 is not reported as drift.
            settings = kafka.model_copy(update={"embedded_host": host, "embedded_port": port})
            echo_report(asyncio.run(apply_topics(settings, specs)))
        click.echo(f"broker ready on {broker.bootstrap} (Ctrl-C stops it; data is in memory)")
        while not stop.wait(0.5):
            if not broker.running:
                raise click.ClickException(
                    f"the embedded broker exited unexpectedly: {broker.log_tail()}"
                )
    except (WbxError, KafkaError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        broker.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("broker stopped")
