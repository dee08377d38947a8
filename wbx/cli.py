"""The `wbx` command line: one entry point, a subcommand per task."""

from __future__ import annotations

import logging

import click

from wbx.commands import register
from wbx.logs import configure_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """WBX, the Western Balkans eXchange: signed mixed-movement and border-incident events."""
    configure_logging(logging.WARNING - 10 * min(verbose, 2))


register(cli)


def main() -> None:
    """Console-script entry point."""
    cli()
