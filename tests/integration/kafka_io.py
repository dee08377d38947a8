"""Helpers for integration tests: read and write topics, run a worker process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from schemas.reading import read_batches, read_to_end
from schemas.settings import KafkaSettings
from schemas.topics import SHARED, STATS
from wbx.up import metric_samples

REPO = Path(__file__).resolve().parents[2]


async def read_topic(bootstrap: str, topic: str) -> list[Any]:
    """Every record currently in `topic` (all partitions, from the beginning)."""
    return await read_to_end(KafkaSettings(bootstrap=bootstrap), [topic])


async def produce(
    bootstrap: str, topic: str, items: list[tuple[bytes | None, bytes]]
) -> list[tuple[int, int]]:
    """Send (key, value) records, wait for every acknowledgement; their (partition, offset)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=8_000_000)
    await producer.start()
    try:
        futures = [await producer.send(topic, value=v, key=k) for k, v in items]
        return [(m.partition, m.offset) for m in await asyncio.gather(*futures)]
    finally:
        await producer.stop()


async def wait_until(
    check: Callable[[], Any], timeout: float, what: str | Callable[[], str]
) -> Any:
    """Poll an async `check` until it returns a truthy value; fail naming `what`.

    `what` may be a callable, evaluated only on failure, so a worker's log in it is the
    log at the timeout rather than at the start of the wait.
    """
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.3)
    named = what() if callable(what) else what
    raise AssertionError(f"timed out after {timeout}s waiting for {named} (last: {last!r})")


class WorkerProcess:
    """`python -m wbx worker` as a child process with a test environment."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = {**os.environ, **env}
        self.log_path = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the worker (logs go to the log file)."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "wbx", "-v", "worker"],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def kill(self) -> None:
        """SIGKILL the worker's whole process group (no clean shutdown)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the worker cleanly (SIGTERM), killing it if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        """The worker's output so far (for assertion messages)."""
        return self.log_path.read_text(errors="replace")[-4000:]


@dataclass
class SharedFollower:
    """Follows `wbx.shared.v1` from its beginning: which events hop 1 released, how often."""

    bootstrap: str
    released: Counter[str] = field(default_factory=Counter)
    task: asyncio.Task[None] | None = None

    def count(self) -> int:
        """How many distinct events were released so far; raises if the reader died (a
        frozen count must never pass for a worker that stopped releasing)."""
        if self.task is not None and self.task.done() and not self.task.cancelled():
            self.task.result()
            raise AssertionError("the wbx.shared.v1 follower stopped")
        return len(self.released)

    async def run(self) -> None:
        """Read on until cancelled."""
        kafka = KafkaSettings(bootstrap=self.bootstrap)
        async for batch in read_batches(kafka, [SHARED], follow=True):
            for r in batch:
                self.released[json.loads(r.value)["provenance"]["event_id"]] += 1


@contextlib.asynccontextmanager
async def following(bootstrap: str) -> AsyncIterator[SharedFollower]:
    """A `SharedFollower` running in the background for the block."""
    follower = SharedFollower(bootstrap)
    task = follower.task = asyncio.create_task(follower.run())
    try:
        yield follower
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def rss_mib(pid: int) -> float:
    """A process's resident set now, in MiB (Linux `VmRSS`)."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def gauge_sum(port: int, name: str) -> float:
    """The sum of a metric's samples on a worker's metrics port (0 if it does not answer)."""
    samples = metric_samples(f"http://127.0.0.1:{port}/metrics", timeout=5) or []
    return sum(s.value for s in samples if s.name == name)


async def counted_events(bootstrap: str) -> int:
    """Events the published daily totals count (the latest value of each day's cell)."""
    latest: dict[str, dict[str, Any]] = {}
    for r in await read_topic(bootstrap, STATS):
        cell = json.loads(r.value)
        latest[cell["key"]] = cell
    return sum(
        int(cell["count"] or 0)
        for key, cell in latest.items()
        if key.startswith("day|") and key.endswith("|events|total|all")
    )
