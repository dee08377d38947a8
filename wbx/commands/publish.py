"""`wbx publish`: send a JSON Lines file of payloads or envelopes through the outbox."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import IO

import click

from producers.publisher import Publisher
from schemas.errors import EnvelopeInvalidError, WbxError
from schemas.keys import key_id, load_private_key
from wbx.commands._jsonl import read_jsonl
from wbx.commands._registry import refuse_unusable_key


async def _publish(
    agency: str, key: Path, lines: IO[bytes], timeout: float, progress: bool
) -> tuple[int, int, list[str]]:
    errors: list[str] = []
    queued = 0
    async with Publisher.open(agency, key) as publisher:
        items = list(read_jsonl(lines))
        with click.progressbar(items, label="publishing", hidden=not progress) as bar:
            for line in bar:
                try:
                    if line.error:
                        raise EnvelopeInvalidError(line.error)
                    await publisher.publish(line.value)
                    queued += 1
                except (EnvelopeInvalidError, ValueError) as exc:
                    errors.append(f"line {line.number}: {exc}")
        await publisher.flush(timeout)
        backlog = publisher.outbox.backlog()
    return queued - min(queued, backlog), backlog, errors


@click.command("publish")
@click.option("--agency", required=True, help="Publishing agency id, e.g. RS-BP.")
@click.option("--key", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for the broker.")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
@click.argument("file", type=click.File("rb"))
def command(agency: str, key: Path, timeout: float, progress: bool, file: IO[bytes]) -> None:
    """Publish payloads or envelopes (one JSON object per line) to wbx.ingest.v1."""
    try:
        refuse_unusable_key(agency, key_id(agency, load_private_key(key).public_key()))
        sent, queued, errors = asyncio.run(_publish(agency, key, file, timeout, progress))
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    for error in errors:
        click.echo(f"rejected {error}", err=True)
    click.echo(f"sent {sent}, queued {queued} (in the outbox, will drain), rejected {len(errors)}")
    if errors:
        raise SystemExit(1)
