"""A worker that falls behind: its lag grows and says so, then recovers; memory stays bounded.

The worker is slowed from outside (SIGSTOP/SIGCONT, running a fifth of the time, never long
enough to miss its group heartbeats) while events arrive faster than it keeps up with; then
it runs freely. Its own `wbx_consumer_lag` must rise while it is slow and return to 0, and
its resident memory must not grow with the backlog (Kafka holds the backlog, not the worker).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from schemas.topics import INGEST
from tests.figures import record_figures
from tests.integration.kafka_io import following, gauge_sum, produce, rss_mib, wait_until
from tests.integration.pipeline_stack import Stack, start_stack, stop_stack
from wbx.broker import free_port

pytestmark = pytest.mark.integration

GROWTH_LIMIT_MIB = 64
"""How much a worker's resident set may grow at its largest backlog beyond the state of the
events it has applied by then (fetch buffers, warm-up): the backlog stays on Kafka."""
STATE_KIB_PER_EVENT = 2
"""State per event applied: hop 2 about 1.1 KiB (docs/operations.md), the replay table and
the rest well under 1 KiB."""


@pytest.fixture
def stack(tmp_path: Path):
    stack = start_stack(tmp_path)
    yield stack
    stop_stack(stack)


async def test_a_slow_worker_reports_growing_lag_then_catches_up_within_its_memory(
    stack: Stack, request: pytest.FixtureRequest
):
    count: int = request.config.getoption("--slow-events")
    rate = 300  # events a second: more than a fifth of the worker's speed, less than all
    port = free_port()
    stack.overrides["WBX_WORKER_METRICS_PORT"] = str(port)
    records, _ = stack.mixed_stream(count + 1)
    worker = stack.start_worker()
    assert worker.process is not None
    pid = worker.process.pid
    await produce(stack.bootstrap, INGEST, records[:1])
    async with following(stack.bootstrap) as shared:

        async def warm() -> bool:
            return shared.count() >= 1

        await wait_until(warm, 120, lambda: f"the first event\n{worker.log()}")
        rss_start = rss_mib(pid)
        lag_max = 0.0
        rss_at_peak = rss_start
        applied_at_peak = 0
        slow = True

        async def throttle() -> None:
            # Runs 0.1 s in every 0.5 s: a fifth of its speed, heartbeats still on time.
            while slow:
                os.kill(pid, signal.SIGSTOP)
                await asyncio.sleep(0.4)
                os.kill(pid, signal.SIGCONT)
                await asyncio.sleep(0.1)

        async def publish() -> None:
            for start in range(1, len(records), rate // 5):
                await produce(stack.bootstrap, INGEST, records[start : start + rate // 5])
                await asyncio.sleep(0.2)

        async def watch() -> None:
            nonlocal lag_max, rss_at_peak, applied_at_peak
            while True:
                lag = await asyncio.to_thread(gauge_sum, port, "wbx_consumer_lag")
                if lag > lag_max:
                    lag_max, rss_at_peak, applied_at_peak = lag, rss_mib(pid), shared.count()
                await asyncio.sleep(1)

        throttler = asyncio.create_task(throttle())
        watcher = asyncio.create_task(watch())
        await publish()
        await asyncio.sleep(6)  # the lag timer runs every 5 s, also while slowed
        slow = False
        await throttler
        behind = lag_max
        caught_up_from = time.monotonic()

        async def caught_up() -> bool:
            return shared.count() >= len(records)

        await wait_until(caught_up, 180, lambda: f"catching up\n{worker.log()}")

        async def lag_zero() -> bool:
            return await asyncio.to_thread(gauge_sum, port, "wbx_consumer_lag") == 0

        await wait_until(lag_zero, 30, "the lag metric back to 0")
        recovery = time.monotonic() - caught_up_from
        watcher.cancel()
        rss_end = rss_mib(pid)
    assert behind >= count / 10, f"the worker never reported itself behind (lag max {behind})"
    # At its largest backlog the worker holds its state and little more: Kafka holds the
    # backlog, not the worker.
    state_mib = applied_at_peak * STATE_KIB_PER_EVENT / 1024
    grown = rss_at_peak - rss_start
    assert grown <= GROWTH_LIMIT_MIB + state_mib, (rss_start, rss_at_peak, applied_at_peak)
    record_figures(
        request,
        "slow worker (a fifth of its speed)",
        inputs=len(records),
        lost=len(records) - shared.count(),
        rss_mib=(rss_start, rss_end),
        lag_max=int(lag_max),
        seconds=recovery,
        note=f"lag rose to {behind:.0f} while slowed, back to 0 {recovery:.0f} s after "
        f"it ran freely; RSS MiB at the largest backlog {rss_at_peak:.0f}",
    )
