"""`wbx bench`: ceilings, whole-pipeline throughput with one and two workers, latency, memory."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click


@click.command("bench")
@click.option("--events", type=click.IntRange(min=10), default=None,
              help="Records to push through (default 20,000; 300 with --quick).")  # fmt: skip
@click.option("--offered", type=click.IntRange(min=1), default=None,
              help="Offered load of the latency run, events/s (500; 50 with --quick).")  # fmt: skip
@click.option("--quick", is_flag=True, help="Everything, small: checks the benchmark runs.")
@click.option("--one-worker", is_flag=True, help="Skip the two-worker run.")
@click.option("--profile", "profile_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Write a cProfile of each worker to this directory.")  # fmt: skip
@click.option("--json", "json_file", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Also write the report as JSON to this file.")  # fmt: skip
def command(
    events: int | None,
    offered: int | None,
    quick: bool,
    one_worker: bool,
    profile_dir: Path | None,
    json_file: Path | None,
) -> None:
    """Measure the pipeline against its ceilings on a fresh embedded broker, in one run."""
    from wbx.bench import Plan, run_benchmark

    plan = Plan.quick() if quick else Plan()
    plan = replace(
        plan,
        events=events or plan.events,
        offered_per_s=offered or plan.offered_per_s,
        two_workers=plan.two_workers and not one_worker,
        profile=profile_dir,
    )
    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)
    click.echo(f"benchmark of {plan.events} events (a minute or more; --quick is small) ...")
    r = run_benchmark(plan)
    click.echo(f"run at {r.started_at} on {r.machine['cpus']} CPUs, Python {r.machine['python']}")
    click.echo(f"Ed25519 verifications, one core:      {r.ed25519_verifications_per_s:9.0f} /s")
    click.echo(f"ceiling (aiokafka verify+forward):    {r.ceiling_per_s:9.0f} events/s")
    click.echo(
        f"pipeline, one worker (to statistics): {r.one_worker_per_s:9.0f} events/s"
        f"   {r.ratio_to_ceiling:.2f} of the ceiling"
    )
    click.echo(
        f"pipeline, one process per hop:        {r.split_per_s:9.0f} events/s"
        f"   {r.split_per_s / r.one_worker_per_s:.2f} x one worker"
    )
    if r.two_workers_per_s is not None and r.two_over_one is not None:
        click.echo(
            f"pipeline, two workers:                {r.two_workers_per_s:9.0f} events/s"
            f"   {r.two_over_one:.2f} x one worker"
        )
    for name, lat in (("one worker", r.latency), ("one process per hop", r.split_latency)):
        if lat is not None:
            click.echo(
                f"publish -> alert topic, {name}, at {lat.offered_per_s}/s "
                f"({lat.received}/{lat.probes} probes): p50 {lat.p50_ms:.0f} ms, "
                f"p95 {lat.p95_ms:.0f} ms, p99 {lat.p99_ms:.0f} ms, max {lat.max_ms:.0f} ms"
            )
    rss = ", ".join(f"{mb:.0f}" for mb in r.worker_peak_rss_mb)
    click.echo(f"worker peak RSS (MiB):                {rss}")
    if json_file is not None:
        json_file.write_text(r.to_json() + "\n", encoding="utf-8")
        click.echo(f"report written to {json_file}")
