"""SIGKILL the worker mid-stream, restart it: everything processed, nothing counted twice."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest

from schemas.topics import INGEST, SHARED, alerts_topic
from tests.integration.kafka_io import counted_events, produce, read_topic, wait_until
from tests.integration.pipeline_stack import Stack

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(exact_stack: Stack) -> Stack:
    return exact_stack


async def _shared_keys(stack: Stack) -> list[str]:
    return [
        json.loads(r.value)["provenance"]["event_id"]
        for r in await read_topic(stack.bootstrap, SHARED)
    ]


async def test_sigkill_mid_stream_then_restart_loses_nothing_and_counts_once(stack: Stack):
    total = 1500
    records, deaths = stack.mixed_stream(total)
    worker = stack.start_worker()
    await produce(stack.bootstrap, INGEST, records[:1])

    async def warm() -> bool:
        return len(await _shared_keys(stack)) >= 1

    await wait_until(warm, 90, f"the worker to start\n{worker.log()}")

    async def publish_rest() -> None:
        for start in range(1, total, 50):
            await produce(stack.bootstrap, INGEST, records[start : start + 50])
            await asyncio.sleep(0.05)

    publisher = asyncio.create_task(publish_rest())

    async def midway() -> bool:
        return len(set(await _shared_keys(stack))) >= total // 4

    await wait_until(midway, 90, "a quarter of the stream")
    worker.kill()
    at_kill = len(set(await _shared_keys(stack)))
    await publisher
    assert at_kill < total, "the worker finished before the kill: the test proved nothing"

    worker = stack.start_worker()

    async def all_shared() -> bool:
        return len(set(await _shared_keys(stack))) == total

    await wait_until(all_shared, 120, lambda: f"every event after the restart\n{worker.log()}")

    async def stats_total() -> int | None:
        counted = await counted_events(stack.bootstrap)
        return counted if counted >= total else None

    assert await wait_until(stats_total, 60, "statistics of every event") == total

    revisions: Counter[tuple[str, int]] = Counter()
    for pcc in ("pcc-plav", "pcc-trebinje"):
        for r in await read_topic(stack.bootstrap, alerts_topic(pcc)):
            alert = json.loads(r.value)
            revisions[(alert["id"], alert["revision"])] += 1
    repeated = {k: n for k, n in revisions.items() if n > 1}
    assert repeated == {}, f"alerts sent twice: {repeated}"
    plav = [r for r in await read_topic(stack.bootstrap, alerts_topic("pcc-plav"))]
    death_ids = {
        json.loads(r.value)["id"] for r in plav if json.loads(r.value)["rule"] == "death_or_missing"
    }
    assert len(death_ids) == deaths


async def test_after_a_crash_in_a_quiet_period_statistics_come_without_new_traffic(stack: Stack):
    # Counted and committed, not yet published (a long flush interval), then killed: the
    # restarted owner must publish them although no record arrives to wake it.
    total = 60
    records, _ = stack.mixed_stream(total)
    stack.overrides["WBX_WORKER_STATS_FLUSH_INTERVAL"] = "600"
    worker = stack.start_worker()
    await produce(stack.bootstrap, INGEST, records)

    async def all_shared() -> bool:
        return len(set(await _shared_keys(stack))) == total

    await wait_until(all_shared, 90, lambda: f"every event shared\n{worker.log()}")
    await asyncio.sleep(4.0)  # hop 2 applies them and commits its offset (every second)
    assert await counted_events(stack.bootstrap) == 0, (
        "published before the crash: the test proves nothing"
    )
    worker.kill()

    stack.overrides["WBX_WORKER_STATS_FLUSH_INTERVAL"] = "0.3"
    worker = stack.start_worker()

    async def republished() -> int | None:
        counted = await counted_events(stack.bootstrap)
        return counted if counted >= total else None

    assert await wait_until(republished, 90, lambda: f"the statistics\n{worker.log()}") == total
