"""`wbx stats audit`: run an analyst's attacks on what WBX published and count what leaks."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from schemas.derived import StatCell
from schemas.disclosure import load_ptable
from schemas.errors import WbxError
from schemas.reading import read_to_end
from schemas.settings import ContractSettings, KafkaSettings
from schemas.topics import STATS
from wbx.broker import wait_for_broker


@click.group("stats")
def command() -> None:
    """Regional statistics: check what their publication reveals."""


@command.command("audit")
@click.option(
    "--file",
    "export",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="A saved export (/v1/stats JSON, /v1/stats.csv, the dashboard's CSV, or JSON Lines "
    "of wbx.stats.v1 cells) instead of the wbx.stats.v1 topic.",
)
@click.option(
    "--ptable",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="The perturbation table (default: WBX_PTABLE_FILE, infra/ptable.toml).",
)
def audit_command(export: Path | None, ptable: Path | None) -> None:
    """Count the cells (and increments) an analyst could pin to a value of 1-4: must be 0."""
    # Imported here: scipy costs every other `wbx` command (the worker too) 1.4 s at start.
    from wbx.stats_audit import audit, read_export

    try:
        table = load_ptable(ptable or ContractSettings().ptable_file)
        cells = list(read_export(export)) if export else _from_topic(KafkaSettings())
    except (WbxError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"read {len(cells)} published cell versions from {export or STATS}")
    report = audit(cells, table)
    for t in report.tables:
        click.echo(
            f"{t.name:<32} {t.cells:>6} cells  {t.small:>5} could be 1-{table.small - 1}  "
            f"pinned to 1-{table.small - 1}: {len(t.pinned)} (interval), "
            f"{len(t.pinned_increments)} (updates)  "
            f"utility: mean |noise| {t.expected_abs_noise:.2f}, "
            f"{t.expected_changed:.0%} of values moved"
        )
        for finding in [*t.pinned, *t.pinned_increments][:5]:
            click.echo(f"    leak: {finding}")
    if report.infeasible:
        click.echo(f"note: {len(report.infeasible)} cell(s) had no consistent solution "
                   "(an export that misses some days?)")  # fmt: skip
    click.echo(f"cells or increments pinned to 1-{table.small - 1}: {report.leaks}")
    if report.leaks:
        raise SystemExit(1)


def _from_topic(kafka: KafkaSettings) -> list[StatCell]:
    asyncio.run(wait_for_broker(kafka.bootstrap_servers, 10))
    records = asyncio.run(read_to_end(kafka, [STATS]))
    return [StatCell.model_validate_json(r.value) for r in records if r.value is not None]
