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
import json
import sys
import time
from collections import Counter, deque
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

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
from wbx.bench import gateway_process, worker_processes

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(exact_stack: Stack) -> Stack:
    return exact_stack


async def read_apart(args: dict[str, Any]) -> dict[str, Any]:
    """The readers (`tests/integration/readers.py`) in a process of their own; their counts."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.integration.readers",
        cwd=Path(__file__).resolve().parents[2],
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        out, _ = await proc.communicate(json.dumps(args).encode())
    finally:
        if proc.returncode is None:  # the test failed or was cancelled meanwhile
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, f"the readers' process failed ({proc.returncode})"
    result: dict[str, Any] = json.loads(out)
    return result


class SteadyPublisher:
    """Publishes prepared records to the ingest topic at a steady rate, as agencies would.

    A produce the broker refuses (a request that timed out) is sent again and counted, never
    dropped: a copy that did land is a replay the Verify stage drops, so every event is still
    counted once. At most `window` seconds of records wait for their acknowledgement; past
    that the generator waits too, and how far it fell behind its schedule is a figure.
    """

    def __init__(
        self, bootstrap: str, records: list[tuple[bytes, bytes]], rate: float, window: float = 5
    ) -> None:
        self.bootstrap = bootstrap
        self.records = records
        self.rate = rate
        self.in_flight = max(1, int(rate * window))
        self.sent = 0
        self.refused = 0
        self.behind = 0.0
        self.seconds = 0.0

    def published_rate(self) -> float:
        """The rate achieved: records acknowledged per second of publishing."""
        return self.sent / self.seconds if self.seconds else 0.0

    async def run(self, seconds: float) -> None:
        """Publish for `seconds` on schedule (or every record, if fewer); wait for every ack."""
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", linger_ms=10, request_timeout_ms=60_000
        )
        await producer.start()
        pending: deque[tuple[int, asyncio.Future[Any]]] = deque()
        queued = 0
        started = time.monotonic()
        try:
            while queued < len(self.records):
                elapsed = time.monotonic() - started
                if elapsed >= seconds:
                    break
                due = min(int(elapsed * self.rate), len(self.records))
                self.behind = max(self.behind, (due - queued) / self.rate)
                for i in range(queued, due):
                    pending.append((i, await self._send(producer, i)))
                queued = max(queued, due)
                while pending and (len(pending) > self.in_flight or pending[0][1].done()):
                    await self._settle(producer, pending)
                await asyncio.sleep(0.02)
            while pending:
                await self._settle(producer, pending)
            self.seconds = time.monotonic() - started
        finally:
            await producer.stop()

    async def _send(self, producer: AIOKafkaProducer, i: int) -> asyncio.Future[Any]:
        key, value = self.records[i]
        return await producer.send(INGEST, value=value, key=key)

    async def _settle(
        self, producer: AIOKafkaProducer, pending: deque[tuple[int, asyncio.Future[Any]]]
    ) -> None:
        # The oldest record: acknowledged, or refused and queued again at the back.
        i, future = pending.popleft()
        try:
            await future
        except KafkaError:
            self.refused += 1
            pending.append((i, await self._send(producer, i)))
        else:
            self.sent += 1


async def test_a_steady_stream_and_steady_readers_run_without_errors_or_loss(
    stack: Stack, request: pytest.FixtureRequest
):
    seconds: float = request.config.getoption("--soak-seconds")
    rate: int = request.config.getoption("--soak-rate")
    reading: int = request.config.getoption("--soak-requests")
    when = datetime.now(UTC) - timedelta(minutes=5)
    env = {**stack.env(), "WBX_WORKER_STATS_FLUSH_INTERVAL": "1"}
    tmp = stack.tmp

    def apprehension(i: int) -> tuple[bytes, bytes]:
        section = SECTIONS[i % len(SECTIONS)]
        person = {"nationality": "SYR", "sex": "male", "document_number": f"S{i}"}
        data = {"border_section": section, "direction": "entry", "group_size": 1}
        data["persons"] = [person]  # type: ignore[assignment]
        return section.encode(), stack.signed("apprehension", data, "BA-BP", time=when)

    # Signed before the clock starts, so the generator's own CPU does not pace the run.
    publisher = SteadyPublisher(
        stack.bootstrap, [apprehension(i) for i in range(int(seconds * rate))], rate
    )
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

            headers = {
                "alerts": gateway.auth(Role.PCC_OPERATOR, pcc="pcc-plav"),
                "stats": gateway.auth(Role.ANALYST, analyst="soak"),
                "events": gateway.auth(Role.PUBLISHER, agency="BA-BP"),
            }
            watcher = asyncio.create_task(watch_lag())
            started = time.monotonic()
            # One readers' process per 100 requests/s: one httpx client process does not
            # sustain much more, and a slow client must not pass for a slow gateway.
            shares = -(-reading // 100)
            args = [
                {"base": gateway.base, "headers": headers, "rate": reading / shares}
                | {"seconds": seconds, "seed": 20261124 + n}
                for n in range(shares)
            ]
            *parts, _ = await asyncio.gather(*map(read_apart, args), publisher.run(seconds))
            readers = {
                "statuses": sum((Counter(p["statuses"]) for p in parts), Counter()),
                "failures": [f for p in parts for f in p["failures"]],
                "streams": sum(p["streams"] for p in parts),
                "behind": max(p["behind"] for p in parts),
            }
            sent = publisher.sent

            async def drained() -> bool:
                return shared.count() >= sent + 1

            await wait_until(drained, 120 + sent / 100, lambda: f"{sent} events released")
            counts = [0]

            async def counted() -> int | None:
                # Read while the workers still run: hop 2 may be behind hop 1 at this point.
                counts[0] = await counted_events(stack.bootstrap)
                return counts[0] if counts[0] >= sent + 1 else None

            total = await wait_until(
                counted,
                120 + sent / 200,
                lambda: f"statistics of every event: {counts[0]} of {sent + 1} counted",
            )
            processed_s = time.monotonic() - started
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            rss_end = {name: rss_mib(pid) for name, pid in pids.items()}
            crashes = sum(gauge_sum(w.metrics_port, "wbx_agent_crashes_total") for w in workers)
            alive = {f"worker ({w.hop})": w.proc.poll() is None for w in workers}
            released_twice = sum(n - 1 for n in shared.released.values())

    assert not readers["failures"], readers["failures"][:10]
    assert all(alive.values()) and crashes == 0, (alive, crashes)
    assert total == sent + 1, f"counted {total} of {sent + 1}"
    rss = {name: (rss_start[name], rss_end[name]) for name in pids}
    statuses = Counter(readers["statuses"])
    record_figures(
        request,
        f"soak {seconds:.0f} s at {rate}/s + {reading} req/s",
        inputs=sent + statuses.total(),
        crashes=int(crashes),
        status_5xx=sum(n for k, n in statuses.items() if int(k.split()[-1]) >= 500),
        lost=0,
        double_counted=total - sent - 1,
        rss_mib=(sum(a for a, _ in rss.values()), sum(b for _, b in rss.values())),
        lag_max=int(lag_max),
        redone=released_twice,
        seconds=processed_s,
        note=f"offered {rate}/s, published {publisher.published_rate():.0f}/s "
        f"(at most {publisher.behind:.1f} s behind, {publisher.refused} produce requests "
        f"refused and sent again), all processed at {sent / processed_s:.0f}/s; "
        f"{statuses.total():,} requests "
        f"({readers['streams']} SSE visits, at most {readers['behind']:.1f} s behind): "
        f"{dict(sorted(statuses.items()))}; "
        "RSS MiB start → end: "
        + ", ".join(f"{name} {a:.0f} → {b:.0f}" for name, (a, b) in rss.items()),
    )
