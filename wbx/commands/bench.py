"""`wbx bench`: measure pipeline throughput against a plain-aiokafka baseline, same run."""

from __future__ import annotations

import click


@click.command("bench")
@click.option("--events", default=20_000, show_default=True, help="Records to push through.")
def command(events: int) -> None:
    """Print events/s of the worker and of a plain aiokafka verify-and-forward loop."""
    from wbx.bench import run_benchmark

    result = run_benchmark(events)
    click.echo(f"events:                         {result.events}")
    click.echo(f"baseline (aiokafka verify+fwd): {result.baseline_per_s:8.0f} events/s")
    click.echo(f"pipeline (worker, both hops):   {result.pipeline_per_s:8.0f} events/s")
    click.echo(
        f"pipeline / baseline:            {result.pipeline_per_s / result.baseline_per_s:8.2f}"
    )
