"""`wbx receipts`: an agency's signed receipts from its topic, checked against the key."""

from __future__ import annotations

import asyncio
import contextlib

import click

from schemas.errors import WbxError
from schemas.settings import ContractSettings, KafkaSettings


@click.command("receipts")
@click.option("--agency", required=True, help="The agency whose receipts to read (e.g. RS-BP).")
@click.option("--follow", is_flag=True, help="Keep reading new receipts until Ctrl-C.")
@click.option(
    "--verify",
    is_flag=True,
    help="Check each receipt's signature against WBX_RECEIPT_PUBLIC_KEY; exit 1 if one fails.",
)
@click.option("--verdict", default=None, help="Only receipts with this verdict (ok, replay, ...).")
def command(agency: str, follow: bool, verify: bool, verdict: str | None) -> None:
    """Print an agency's receipts as JSON lines: what the platform received and its verdict.

    Standard error gets one summary line; with --verify, each receipt's line on standard
    error names any whose signature is not the platform's.
    """
    from producers.receipts import read_receipts

    trusted = None
    if verify:
        try:
            trusted = ContractSettings().receipt_key()
        except WbxError as exc:
            raise click.ClickException(str(exc)) from None
        if trusted is None:
            raise click.ClickException(
                "--verify needs the platform's receipt key: set WBX_RECEIPT_PUBLIC_KEY "
                "(the gateway publishes it at /v1/receipts/key)"
            )
    counts = {"shown": 0, "invalid": 0}

    async def run() -> None:
        async for read in read_receipts(KafkaSettings(), agency, trusted, follow=follow):
            if verdict is not None and read.receipt.verdict != verdict:
                continue
            counts["shown"] += 1
            click.echo(read.receipt.model_dump_json())
            if read.valid is False:
                counts["invalid"] += 1
                where = f"{read.receipt.topic}:{read.receipt.partition}@{read.receipt.offset}"
                click.echo(f"INVALID signature: receipt for {where}", err=True)

    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run())
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    checked = ""
    if verify:
        checked = (", every signature valid" if not counts["invalid"]
                   else f", {counts['invalid']} with an INVALID signature")  # fmt: skip
    click.echo(f"{counts['shown']} receipts of {agency}{checked}", err=True)
    if counts["invalid"]:
        raise SystemExit(1)
