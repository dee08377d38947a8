"""`wbx worker`: run the stream processors (one member of the consumer group)."""

from __future__ import annotations

import click

from schemas.errors import WbxError


@click.command("worker")
def command() -> None:
    """Run the stream worker: verify, protect, aggregate, route (Ctrl-C stops it)."""
    from consumers.worker import run_worker  # faust is heavy: import only for this command

    try:
        run_worker()
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
