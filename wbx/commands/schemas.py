"""`wbx schemas`: export the contract as JSON Schema and check compatibility of changes."""

from __future__ import annotations

from pathlib import Path

import click

from schemas.governance import check_compatibility, export_schemas


@click.group("schemas")
def command() -> None:
    """Export JSON Schemas and check that a change keeps consumers working."""


@command.command("export")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
def export(directory: Path) -> None:
    """Write one Draft 2020-12 JSON Schema per event type plus the envelope schema."""
    for path in export_schemas(directory):
        click.echo(str(path))


@command.command("check")
@click.argument("old_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.argument("new_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
def check(old_dir: Path, new_dir: Path) -> None:
    """Fail when NEW_DIR would break consumers of OLD_DIR (removed/retyped/new required field)."""
    problems = check_compatibility(old_dir, new_dir)
    for problem in problems:
        click.echo(f"BREAKING {problem}", err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} breaking change(s)")
    click.echo(f"compatible: {new_dir} can read everything valid under {old_dir}")
