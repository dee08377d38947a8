"""`wbx tokens issue`: bearer tokens for the gateway."""

from __future__ import annotations

import re
from datetime import timedelta

import click

from gateway.auth import Role, TokenAuthority
from gateway.settings import GatewaySettings
from schemas.errors import WbxError

_DURATION = re.compile(r"^(\d+)([smhd])$")


def parse_duration(text: str) -> timedelta:
    """`90s`, `15m`, `12h`, `30d` as a timedelta."""
    match = _DURATION.match(text.strip())
    if not match:
        raise click.BadParameter(f"{text!r} is not a duration like 15m, 12h or 30d")
    amount, unit = int(match.group(1)), match.group(2)
    unit_name = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]
    return timedelta(**{unit_name: amount})


@click.group("tokens")
def command() -> None:
    """Issue bearer tokens for the gateway (signed with the platform key)."""


@command.command("issue")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--agency", help="publisher: the agency it publishes for, e.g. RS-BP")
@click.option("--pcc", help="pcc_operator: the PCC, e.g. pcc-trebinje")
@click.option("--analyst", help="analyst: the analyst's name or unit")
@click.option("--ttl", default="12h", show_default=True, help="lifetime, e.g. 15m, 12h, 30d")
def issue(role: str, agency: str | None, pcc: str | None, analyst: str | None, ttl: str) -> None:
    """Print a token for one role, bound to an agency, a PCC or an analyst."""
    settings = GatewaySettings()
    try:
        authority = TokenAuthority.from_file(
            settings.token_key_file, settings.issuer, settings.audience
        )
        token = authority.issue(
            Role(role), agency=agency, pcc=pcc, analyst=analyst, ttl=parse_duration(ttl)
        )
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(token)
