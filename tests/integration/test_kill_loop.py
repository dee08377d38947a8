"""SIGKILL the worker at seeded random moments of a long stream, restarting it each time.

Nothing may be lost, nothing counted twice, no alert revision sent twice. The short version
runs in `make test`; `make reliability` runs it with `--kill-events 50000 --kills 6`. A
failure names the seed (`--kill-seed`) that reproduces it, and how far each ingest partition
was read and committed, so a partition nobody reads shows at once.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from schemas.topics import INGEST, QUARANTINE, alerts_topic
from tests.figures import record_figures
from tests.integration.kafka_io import (
    WorkerProcess,
    counted_events,
    following,
    produce,
    read_topic,
    wait_until,
)
from tests.integration.pipeline_stack import PCCS, Stack
from wbx.broker import free_port
from wbx.up import metric_samples

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(exact_stack: Stack) -> Stack:
    return exact_stack


def _stacks(worker: WorkerProcess) -> str:
    """Where every thread of the worker is now (py-spy, from outside): a worker that stopped
    processing shows what it waits for."""
    if worker.process is None or worker.process.poll() is not None:
        return "the worker is not running"
    spy = Path(sys.executable).with_name("py-spy")
    dumped = subprocess.run(
        [str(spy), "dump", "--pid", str(worker.process.pid)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return dumped.stdout[-12_000:] + dumped.stderr[-2_000:]


async def partition_report(stack: Stack, released: Counter[str], metrics_port: int) -> str:
    """Where the events not released are: per ingest partition, how many records it holds
    and how many of them were released; the missing ones' positions; whether quarantine has
    them; and the running worker's own count of outcomes."""
    held: Counter[int] = Counter()
    out: Counter[int] = Counter()
    missing = []
    for r in await read_topic(stack.bootstrap, INGEST):
        held[r.partition] += 1
        event_id = json.loads(r.value)["id"]
        if event_id in released:
            out[r.partition] += 1
        else:
            missing.append(f"{r.partition}@{r.offset}")
    quarantined = [json.loads(r.value) for r in await read_topic(stack.bootstrap, QUARANTINE)]
    samples = metric_samples(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) or []
    outcomes = {
        f"{s.name}{s.labels}": s.value
        for s in samples
        if s.name
        in (
            "wbx_verify_outcomes_total",
            "wbx_consumer_lag",
            "wbx_consumer_partition_stalled",
            "wbx_agent_crashes_total",
        )
    }
    lines = [f"ingest[{p}]: {held[p]} held, {out[p]} released" for p in sorted(held)]
    lines.append(f"not released ({len(missing)}): {missing[:30]}")
    lines.append(f"quarantined: {[(q['reason'], q['offset']) for q in quarantined][:20]}")
    lines.append(f"worker metrics: {outcomes}")
    return "\n".join(lines)


async def test_seeded_sigkills_during_a_long_stream_lose_nothing_and_count_once(
    stack: Stack, request: pytest.FixtureRequest
):
    total: int = request.config.getoption("--kill-events")
    kills: int = request.config.getoption("--kills")
    seed: int = request.config.getoption("--kill-seed")
    rng = random.Random(seed)
    # Kill points as shares of the stream, spread so each restart has work left to do.
    points = sorted(rng.uniform(0.05, 0.8) * total for _ in range(kills))
    records, deaths = stack.mixed_stream(total)
    started = time.monotonic()
    port = free_port()
    stack.overrides["WBX_WORKER_METRICS_PORT"] = str(port)
    worker = stack.start_worker()

    async with following(stack.bootstrap) as shared:

        async def publish() -> None:
            for start in range(0, total, 500):
                await produce(stack.bootstrap, INGEST, records[start : start + 500])
                await asyncio.sleep(0.2)

        publisher = asyncio.create_task(publish())
        for n, point in enumerate(points, 1):

            async def reached(point: float = point) -> bool:
                return shared.count() >= point

            where = f"{shared.count()} released before kill {n} at {point:.0f}"
            await wait_until(
                reached, 180, lambda w=worker, at=where: f"{at}\n{w.log()}\n{_stacks(w)}"
            )
            await asyncio.sleep(rng.uniform(0, 1.0))
            assert shared.count() < total, f"seed {seed}: kill {n} came after the end"
            worker.kill()
            port = free_port()
            stack.overrides["WBX_WORKER_METRICS_PORT"] = str(port)
            # A supervisor restarts at once or after a while: across the group's session
            # timeout, the dead member is still in the group, expiring, or gone.
            await asyncio.sleep(rng.choice((0.0, rng.uniform(0, 12))))
            worker = stack.start_worker()
        await publisher

        async def everything() -> bool:
            return shared.count() == total

        try:
            await wait_until(everything, 120 + total / 100, "every event released")
        except AssertionError as failure:
            report = await partition_report(stack, shared.released, port)
            report += "\n" + _stacks(worker)
            raise AssertionError(
                f"seed {seed}: {shared.count()} of {total} released after {kills} kills\n"
                f"{report}\n{worker.log()}"
            ) from failure

    async def stats_total() -> int | None:
        counted = await counted_events(stack.bootstrap)
        return counted if counted >= total else None

    assert await wait_until(stats_total, 90, "statistics of every event") == total, seed

    revisions: Counter[tuple[str, int]] = Counter()
    death_ids = set()
    for pcc in PCCS:
        for r in await read_topic(stack.bootstrap, alerts_topic(pcc)):
            alert = json.loads(r.value)
            revisions[(alert["id"], alert["revision"])] += 1
            if alert["rule"] == "death_or_missing":
                death_ids.add(alert["id"])
    repeated = {k: n for k, n in revisions.items() if n > 1}
    assert repeated == {}, f"seed {seed}: alerts sent twice: {repeated}"
    assert len(death_ids) == deaths, seed
    record_figures(
        request,
        f"SIGKILL loop (seed {seed})",
        inputs=total,
        crashes=kills,
        lost=total - shared.count(),
        double_counted=await stats_total() - total,
        duplicate_alerts=len(repeated),
        redone=sum(shared.released.values()) - total,
        seconds=time.monotonic() - started,
    )
