"""`wbx import-csv`: publish events from the spreadsheets national units keep."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from producers.csv_import import load_mapping, read_csv
from producers.publisher import Publisher
from schemas.envelope import EnvelopeBody
from schemas.errors import WbxError
from schemas.keys import key_id, load_private_key
from schemas.settings import INFRA_DIR
from wbx.commands._registry import refuse_unusable_key


async def _publish(agency: str, key: Path, events: list[EnvelopeBody], timeout: float) -> int:
    async with Publisher.open(agency, key) as publisher:
        for body in events:
            await publisher.publish(body)
        await publisher.flush(timeout)
        return publisher.outbox.backlog()


@click.command("import-csv")
@click.option("--agency", required=True, help="Publishing agency id, e.g. RS-BP.")
@click.option("--key", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--type", "event_type", required=True, help="Event type, e.g. apprehension.")
@click.option(
    "--mapping",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Column mapping (default: infra/csv/<type>.toml).",
)
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for the broker.")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
def command(
    agency: str, key: Path, event_type: str, mapping: Path | None, timeout: float, file: Path
) -> None:
    """Map each CSV row (per person or per incident) to events and publish the valid ones."""
    try:
        refuse_unusable_key(agency, key_id(agency, load_private_key(key).public_key()))
        spec = load_mapping(mapping or INFRA_DIR / "csv" / f"{event_type}.toml")
        if spec.type != event_type:
            raise click.UsageError(f"mapping is for {spec.type}, not {event_type}")
        result = read_csv(file.read_text(encoding="utf-8-sig"), spec, agency)
        queued = asyncio.run(_publish(agency, key, result.events, timeout)) if result.events else 0
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    for error in result.errors:
        click.echo(f"rejected {error}", err=True)
    click.echo(
        f"{result.rows} rows read, {len(result.events)} events published "
        f"({queued} still queued in the outbox), {len(result.errors)} rejected"
    )
    if result.errors:
        raise SystemExit(1)
