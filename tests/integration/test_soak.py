"""Soak: a steady event rate through the whole pipeline while the gateway serves readers.

One process per hop and a gateway process, as deployed. Events are published at a steady
rate for the whole run; at the same time PCC operators read alerts, analysts statistics,
publishers their own events, and SSE clients connect and leave. Nothing may fail: no 5xx, no
worker restart, every event counted once, and memory and lag are reported (RSS of each
process at the start and the end, the largest lag seen). The short version runs in
`make test`; `make reliability` runs `--soak-seconds 300 --soak-rate 1000 --soak-requests 200`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from gateway.auth import Role
from schemas.topics import INGEST
from tests.figures import record_figures
from tests.integration.kafka_io import (
    counted_events,
    following,
    gauge_sum,
    produce,
    rss_mib,
    wait_until,
)
from tests.integration.pipeline_stack import SECTIONS, Stack
from wbx.bench import RunningGateway, gateway_process, worker_processes

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(exact_stack: Stack) -> Stack:
    return exact_stack


class Readers:
    """The gateway's readers at a steady request rate; statuses and failures counted."""

    def __init__(self, gateway: RunningGateway, rate: float, rng: random.Random) -> None:
        self.gateway = gateway
        self.rate = rate
        self.rng = rng
        self.statuses: Counter[str] = Counter()
        self.failures: list[str] = []
        self.streams = 0
        self.headers = {
            "alerts": gateway.auth(Role.PCC_OPERATOR, pcc="pcc-plav"),
            "stats": gateway.auth(Role.ANALYST, analyst="soak"),
            "events": gateway.auth(Role.PUBLISHER, agency="BA-BP"),
        }

    async def one(self, client: httpx.AsyncClient) -> None:
        """One request of a random kind: alerts, statistics, own events or an SSE visit."""
        kind = self.rng.choice(("alerts", "stats", "events", "stream"))
        try:
            if kind == "stream":
                await self._visit_stream(client)
                return
            path = {"alerts": "/v1/alerts", "stats": "/v1/stats", "events": "/v1/events"}[kind]
            response = await client.get(path, headers=self.headers[kind])
            self.statuses[f"{kind} {response.status_code}"] += 1
            if response.status_code >= 500:
                self.failures.append(f"{kind}: {response.status_code} {response.text[:200]}")
        except httpx.HTTPError as exc:
            self.failures.append(f"{kind}: {type(exc).__name__}: {exc}")

    async def _visit_stream(self, client: httpx.AsyncClient) -> None:
        # An SSE client that connects, reads for a moment and leaves.
        self.streams += 1
        stay = self.rng.uniform(0.5, 3.0)
        headers = self.headers["alerts"]
        async with client.stream("GET", "/v1/alerts/stream", headers=headers) as response:
            self.statuses[f"stream {response.status_code}"] += 1
            if response.status_code != 200:
                self.failures.append(f"stream: {response.status_code}")
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(stay):
                    async for _ in response.aiter_lines():
                        pass

    async def run(self, seconds: float) -> None:
        """Start requests at the rate for `seconds`, then wait for those still running."""
        limits = httpx.Limits(max_connections=400)
        async with httpx.AsyncClient(
            base_url=self.gateway.base, limits=limits, timeout=30
        ) as client:
            tasks: set[asyncio.Task[None]] = set()
            started = time.monotonic()
            sent = 0
            while (elapsed := time.monotonic() - started) < seconds:
                due = int(elapsed * self.rate) - sent
                for _ in range(due):
                    task = asyncio.create_task(self.one(client))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                sent += max(0, due)
                await asyncio.sleep(0.02)
            if tasks:
                await asyncio.gather(*tasks)


async def test_a_steady_stream_and_steady_readers_run_without_errors_or_loss(
    stack: Stack, request: pytest.FixtureRequest
):
    seconds: float = request.config.getoption("--soak-seconds")
    rate: int = request.config.getoption("--soak-rate")
    reading: int = request.config.getoption("--soak-requests")
    rng = random.Random(20261124)
    when = datetime.now(UTC) - timedelta(minutes=5)
    env = {**stack.env(), "WBX_WORKER_STATS_FLUSH_INTERVAL": "1"}
    tmp = stack.tmp

    def apprehension(i: int) -> tuple[bytes, bytes]:
        section = SECTIONS[i % len(SECTIONS)]
        person = {"nationality": "SYR", "sex": "male", "document_number": f"S{i}"}
        data = {"border_section": section, "direction": "entry", "group_size": 1}
        data["persons"] = [person]  # type: ignore[assignment]
        return section.encode(), stack.signed("apprehension", data, "BA-BP", time=when)

    with (
        worker_processes(["verify", "aggregate"], env, tmp / "workers") as workers,
        gateway_process(env, tmp / "gateway") as gateway,
    ):
        # Warm: both hops assigned and the gateway following, before the clock starts.
        await produce(stack.bootstrap, INGEST, [apprehension(-1)])
        async with following(stack.bootstrap) as shared:

            async def warm() -> bool:
                return shared.count() >= 1

            await wait_until(warm, 120, "the first event through hop 1")
            pids = {f"worker ({w.hop})": w.proc.pid for w in workers}
            pids["gateway"] = gateway.pid
            rss_start = {name: rss_mib(pid) for name, pid in pids.items()}
            lag_max = 0.0
            sent = 0
            offered_s = seconds

            async def publish() -> None:
                nonlocal sent, offered_s
                producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, acks="all")
                await producer.start()
                try:
                    started = time.monotonic()
                    while (elapsed := time.monotonic() - started) < seconds:
                        due = int(elapsed * rate) - sent
                        if due > 0:
                            batch = [apprehension(sent + n) for n in range(due)]
                            for key, value in batch:
                                await producer.send(INGEST, value=value, key=key)
                            sent += due
                        await asyncio.sleep(0.05)
                    await producer.flush()
                    offered_s = time.monotonic() - started
                finally:
                    await producer.stop()

            async def watch_lag() -> None:
                nonlocal lag_max
                while True:
                    lag = 0.0
                    for w in workers:
                        lag += await asyncio.to_thread(
                            gauge_sum, w.metrics_port, "wbx_consumer_lag"
                        )
                    lag_max = max(lag_max, lag)
                    await asyncio.sleep(2)

            readers = Readers(gateway, reading, rng)
            watcher = asyncio.create_task(watch_lag())
            started = time.monotonic()
            await asyncio.gather(publish(), readers.run(seconds))

            async def drained() -> bool:
                return shared.count() >= sent + 1

            await wait_until(drained, 120 + sent / 100, lambda: f"{sent} events released")
            processed_s = time.monotonic() - started
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            rss_end = {name: rss_mib(pid) for name, pid in pids.items()}
            crashes = sum(gauge_sum(w.metrics_port, "wbx_agent_crashes_total") for w in workers)
            alive = {f"worker ({w.hop})": w.proc.poll() is None for w in workers}
            released_twice = sum(n - 1 for n in shared.released.values())

    async def counted() -> int | None:
        total = await counted_events(stack.bootstrap)
        return total if total >= sent + 1 else None

    total = await wait_until(counted, 60, "statistics of every event")
    assert not readers.failures, readers.failures[:10]
    assert all(alive.values()) and crashes == 0, (alive, crashes)
    assert total == sent + 1, f"counted {total} of {sent + 1}"
    rss = {name: (rss_start[name], rss_end[name]) for name in pids}
    record_figures(
        request,
        f"soak {seconds:.0f} s at {rate}/s + {reading} req/s",
        inputs=sent + readers.statuses.total(),
        crashes=int(crashes),
        status_5xx=sum(n for k, n in readers.statuses.items() if int(k.split()[-1]) >= 500),
        lost=0,
        double_counted=total - sent - 1,
        rss_mib=(sum(a for a, _ in rss.values()), sum(b for _, b in rss.values())),
        lag_max=int(lag_max),
        redone=released_twice,
        seconds=processed_s,
        note=f"offered {sent / offered_s:.0f} events/s, all processed at "
        f"{sent / processed_s:.0f}/s; {readers.statuses.total():,} requests "
        f"({readers.streams} SSE visits): {dict(sorted(readers.statuses.items()))}; "
        "RSS MiB start → end: "
        + ", ".join(f"{name} {a:.0f} → {b:.0f}" for name, (a, b) in rss.items()),
    )
