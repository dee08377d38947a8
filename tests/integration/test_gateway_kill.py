"""SIGKILL the gateway while publishers post to it: every event it accepted is verified.

The gateway answers 202 once an event is in its outbox (`producers/outbox.py`), before Kafka
has it; a gateway killed at any moment and started again on the same outbox must deliver
every one of them. Requests the kill cut off got no 202 and are the publisher's to resend.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
from pathlib import Path

import httpx
import pytest

from gateway.auth import Role
from tests.figures import record_figures
from tests.integration.kafka_io import wait_until
from tests.integration.pipeline_stack import Stack, start_stack, stop_stack
from wbx.bench import RunningGateway, gateway_process

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(tmp_path: Path):
    stack = start_stack(tmp_path)
    stack.start_worker()
    yield stack
    stop_stack(stack)


async def _post_until_killed(
    gateway: RunningGateway, bodies: list[tuple[str, bytes]], kill_after: int
) -> tuple[set[str], int]:
    """POST the bodies 8 at a time, SIGKILL the gateway after `kill_after` answers; the ids
    it accepted (202) and how many requests the kill cut off."""
    accepted: set[str] = set()
    cut = 0
    queue = list(reversed(bodies))
    answered = 0
    headers = gateway.auth(Role.PUBLISHER, agency="BA-BP") | {"content-type": "application/json"}

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal answered, cut
        while queue:
            event_id, body = queue.pop()
            try:
                response = await client.post("/v1/events", content=body, headers=headers)
            except httpx.HTTPError:
                cut += 1
                continue
            assert response.status_code == 202, response.text
            accepted.add(event_id)
            answered += 1
            if answered == kill_after:
                os.kill(gateway.pid, signal.SIGKILL)

    async with httpx.AsyncClient(base_url=gateway.base, timeout=10) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(8)))
    return accepted, cut


async def test_a_gateway_killed_during_ingest_delivers_every_event_it_accepted(
    stack: Stack, request: pytest.FixtureRequest
):
    kills: int = request.config.getoption("--kills")
    per_round = 400
    rng = random.Random(request.config.getoption("--kill-seed"))
    env = stack.env()
    accepted: set[str] = set()
    cut_off = 0
    for n in range(kills):
        bodies = []
        for _ in range(per_round):
            data = {"border_section": "MK-RS", "count": 1}
            value = stack.signed("death_or_missing_person", data, "BA-BP")
            bodies.append((json.loads(value)["id"], value))
        # The same outbox directory each time: a restarted gateway forwards what it holds.
        with gateway_process(env, stack.tmp / "gateway") as gateway:
            got, cut = await _post_until_killed(gateway, bodies, rng.randint(50, per_round - 50))
        accepted |= got
        cut_off += cut
        assert cut > 0, f"kill {n + 1} cut off nothing: it came after the last request"
    # A last, clean start drains what the last kill left in the outbox.
    with gateway_process(env, stack.tmp / "gateway"):

        async def all_verified() -> set[str] | None:
            ids = {json.loads(v)["id"] for v in await stack.read_verified()}
            return ids if accepted <= ids else None

        verified = await wait_until(
            all_verified, 120, lambda: f"{len(accepted)} accepted events on wbx.verified.v1"
        )
    record_figures(
        request,
        "gateway SIGKILLs during ingest",
        inputs=len(accepted) + cut_off,
        crashes=kills,
        lost=len(accepted - verified),
        note=f"{len(accepted)} accepted (202), {cut_off} cut off by the kills and not "
        "answered; every accepted one verified",
    )
