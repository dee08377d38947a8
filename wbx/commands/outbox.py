"""`wbx outbox`: look at or drain an agency's store-and-forward outbox."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from producers.outbox import Outbox
from producers.publisher import Publisher
from producers.settings import PublisherSettings
from schemas.errors import WbxError


@click.group("outbox")
def command() -> None:
    """Inspect or drain the local outbox that survives broker outages and crashes."""


@command.command("status")
@click.option("--agency", required=True)
def status(agency: str) -> None:
    """How many events wait to be acknowledged by the broker."""
    settings = PublisherSettings()
    outbox = Outbox.for_agency(settings.outbox_dir, agency, settings.outbox_max_events)
    click.echo(f"{outbox.path}: {outbox.backlog()} event(s) waiting")
    outbox.close()


@command.command("drain")
@click.option("--agency", required=True)
@click.option("--key", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--timeout", default=60.0, show_default=True)
def drain(agency: str, key: Path, timeout: float) -> None:
    """Send what earlier runs left behind; exits 1 if the broker did not take it all."""

    async def run() -> int:
        async with Publisher.open(agency, key) as publisher:
            await publisher.flush(timeout)
            return publisher.outbox.backlog()

    try:
        left = asyncio.run(run())
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{left} event(s) still waiting")
    if left:
        raise SystemExit(1)
