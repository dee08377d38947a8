"""`wbx retention`: the keys of the retention days (crypto-shredding) and their destruction."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import click

from schemas.errors import WbxError
from schemas.settings import ContractSettings


@click.group("retention")
def command() -> None:
    """The retention-day keys that seal personal data on Kafka (see docs/operations.md)."""


@command.command("keys")
def keys() -> None:
    """List the days whose keys exist (records with those deadlines can still be read)."""
    contract = ContractSettings()
    try:
        days = contract.shredder().store.days()
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    for day in days:
        click.echo(day.isoformat())
    click.echo(f"{len(days)} retention-day keys in {contract.retention_keys_dir}", err=True)


@command.command("shred")
@click.option(
    "--through",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Destroy the keys of this day and every day before it (e.g. at a sender's request "
    "to erase early). Default: every day that has passed (the workers do this too).",
)
def shred(through: datetime | None) -> None:
    """Destroy retention-day keys: records sealed under them become unreadable for good."""
    contract = ContractSettings()
    before = through.date() + timedelta(days=1) if through is not None else datetime.now(UTC).date()
    try:
        gone: list[date] = contract.shredder().store.destroy_before(before)
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    for day in gone:
        click.echo(f"destroyed the key of {day.isoformat()}")
    click.echo(f"{len(gone)} keys destroyed; records due on {before.isoformat()} or later "
               "are still readable")  # fmt: skip
