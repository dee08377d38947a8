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
@click.option("--history", type=click.IntRange(min=0), default=None,
              help="Shared records before the take-over run (1,000,000; 2,000 with --quick; "
                   "0 skips it).")  # fmt: skip
@click.option("--profile", "profile_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Sample each worker with py-spy into this directory.")  # fmt: skip
@click.option("--json", "json_file", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Also write the report as JSON to this file.")  # fmt: skip
def command(
    events: int | None,
    offered: int | None,
    quick: bool,
    one_worker: bool,
    history: int | None,
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
        history=plan.history if history is None else history,
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
    latencies = (
        ("alert topic, one worker", r.latency),
        ("SSE client, one worker", r.sse_latency),
        ("alert topic, one process per hop", r.split_latency),
    )
    for name, lat in latencies:
        if lat is not None:
            click.echo(
                f"publish -> {name}, at {lat.offered_per_s}/s "
                f"({lat.received}/{lat.probes} probes): p50 {lat.p50_ms:.0f} ms, "
                f"p95 {lat.p95_ms:.0f} ms, p99 {lat.p99_ms:.0f} ms, max {lat.max_ms:.0f} ms"
            )
    if r.ingest is not None:
        i = r.ingest
        click.echo(
            f"gateway ingest, {i.concurrency} requests in flight: "
            f"{i.single_per_s:.0f} events/s one a request, "
            f"{i.batch_per_s:.0f} events/s in batches of {i.batch_size}"
        )
    if r.takeover is not None:
        t = r.takeover
        click.echo(
            f"hop 2 take-over after {t.history} shared records: {t.seconds:.1f} s "
            f"(rebuilding {t.rebuild_seconds:.1f} s), peak RSS {t.peak_rss_mb:.0f} MiB"
        )
        held = ", ".join(f"{name} {n}" for name, n in t.state_entries.items() if n)
        click.echo(f"  state it holds then: {held}")
    rss = ", ".join(f"{mb:.0f}" for mb in r.worker_peak_rss_mb)
    click.echo(f"worker peak RSS (MiB):                {rss}")
    for worker in r.worker_state[:1]:
        held = ", ".join(f"{name} {n}" for name, n in worker["entries"].items() if n)
        click.echo(f"state of the one worker at the end: {held}")
    click.echo("against the targets:")
    for aim in r.targets():
        verdict = "met" if aim.met else f"MISSED by {aim.factor:.1f}x"
        click.echo(
            f"  {aim.name}: {aim.measured:.2f} {aim.unit} (target {aim.op} {aim.target:g}) "
            f"{verdict}"
        )
    if json_file is not None:
        json_file.write_text(r.to_json() + "\n", encoding="utf-8")
        click.echo(f"report written to {json_file}")
