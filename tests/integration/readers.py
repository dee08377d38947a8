"""The soak's gateway readers, run as a process of their own: `python -m tests.integration.readers`.

PCC operators read alerts, analysts statistics, publishers their own events, and SSE
clients connect and leave, at a steady request rate. Run apart from the event generator so
neither slows the other down; the arguments come as JSON on stdin and the counts go back
as JSON on stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
import time
from collections import Counter
from typing import Any

import httpx

POOL = 20  # connections per client


class Readers:
    """The gateway's readers at a steady request rate; statuses and failures counted.

    At most `in_flight` requests are open at once (SSE visits included), spread in turn over
    clients of `POOL` connections, as many connections in all as requests may be open: the
    client's own cost stays small, so its delay is not taken for the gateway's. Requests it
    could not start on time are started late; how far behind it fell is a figure.
    """

    def __init__(
        self, base: str, headers: dict[str, dict[str, str]], rate: float, seed: int
    ) -> None:
        self.base = base
        self.headers = headers
        self.rate = rate
        self.rng = random.Random(seed)
        self.in_flight = max(20, int(rate * 2))
        self.statuses: Counter[str] = Counter()
        self.failures: list[str] = []
        self.streams = 0
        self.behind = 0.0

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
        # Several small pools: httpcore's pool checks every connection it holds each time
        # it hands one out, so one pool of hundreds made the client, not the gateway, the
        # limit (about 50 requests/s at a full core).
        limits = httpx.Limits(max_connections=POOL)
        async with contextlib.AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(
                    httpx.AsyncClient(base_url=self.base, limits=limits, timeout=30)
                )
                for _ in range(-(-self.in_flight // POOL))
            ]
            tasks: set[asyncio.Task[None]] = set()
            started = time.monotonic()
            sent = 0
            while (elapsed := time.monotonic() - started) < seconds:
                due = int(elapsed * self.rate) - sent
                self.behind = max(self.behind, due / self.rate)
                for _ in range(min(due, self.in_flight - len(tasks))):
                    task = asyncio.create_task(self.one(clients[sent % len(clients)]))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                    sent += 1
                await asyncio.sleep(0.02)
            if tasks:
                await asyncio.gather(*tasks)

    def summary(self) -> dict[str, Any]:
        """The counts, as the JSON the parent reads."""
        return {
            "statuses": dict(self.statuses),
            "failures": self.failures,
            "streams": self.streams,
            "behind": self.behind,
        }


def main() -> None:
    """Read `{base, headers, rate, seconds, seed}` from stdin, run, print the summary."""
    args = json.load(sys.stdin)
    readers = Readers(args["base"], args["headers"], args["rate"], args["seed"])
    asyncio.run(readers.run(args["seconds"]))
    json.dump(readers.summary(), sys.stdout)


if __name__ == "__main__":
    main()
