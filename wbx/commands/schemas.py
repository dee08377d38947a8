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


@command.command("asyncapi")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write to this file instead of standard output.")  # fmt: skip
def asyncapi(output: Path | None) -> None:
    """Print the AsyncAPI 3.0 document of the topics, generated from the contract and plan."""
    import json

    from schemas.asyncapi import asyncapi_document
    from schemas.errors import WbxError
    from wbx.commands.topics import planned_topics

    try:
        plan = planned_topics()
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    text = json.dumps(asyncapi_document(plan), indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"written to {output}", err=True)
