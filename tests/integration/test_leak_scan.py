"""The canary leak scan over everything the gateway answers and everything WBX logs.

Events of every type whose personal fields all hold canaries go through the worker; then
every principal that did not send them (PCC operators of both PCCs, an analyst, the DPO,
an admin, another agency's publisher) calls every read endpoint and opens every page
(signed in as a person would), SSE streams included, and every line the worker and the
gateway logged is read. No canary may appear anywhere. The sending agency reading its own
events back is the one place the canaries must appear (it proves they went in).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import uuid
from collections.abc import Iterator

import httpx
import pytest

from gateway.auth import Role
from schemas.topics import INGEST, SHARED, alerts_topic
from tests.factories import CANARY, CANARY_BIRTH, CANARY_LAT, CANARY_LON, EVERY_TYPE
from tests.figures import record_figures
from tests.integration.gateway_server import LiveGateway
from tests.integration.kafka_io import produce, read_topic, wait_until
from tests.integration.pipeline_stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

NEEDLES = (CANARY, CANARY_BIRTH, str(CANARY_LAT), str(CANARY_LON))
SENDER = "MK-BP"
READERS: list[tuple[Role, dict[str, str]]] = [
    (Role.PCC_OPERATOR, {"pcc": "pcc-plav"}),
    (Role.PCC_OPERATOR, {"pcc": "pcc-trebinje"}),
    (Role.ANALYST, {"analyst": "marri"}),
    (Role.DPO, {}),
    (Role.ADMIN, {}),
    (Role.PUBLISHER, {"agency": "RS-BP"}),
]
API = [
    "/v1/alerts",
    "/v1/stats",
    "/v1/stats.csv",
    "/v1/events",
    "/v1/receipts",
    "/v1/audit",
    "/v1/audit/checkpoints",
    "/v1/audit/key",
    "/v1/receipts/key",
    "/asyncapi.json",
    "/metrics",
    "/readyz",
    "/healthz",
]
PAGES = ["/", "/console", "/dashboard", "/dashboard.csv"]
STREAMS = ["/v1/alerts/stream", "/console/stream"]


class _Lines(logging.Handler):
    """Every log record of the process, formatted, with its exception text."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def gateway_logs() -> Iterator[_Lines]:
    handler = _Lines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)  # what an operator runs with (the worker runs with -v)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def _leaks(text: str) -> list[str]:
    return [needle for needle in NEEDLES if needle in text]


async def _stream(client: httpx.AsyncClient, path: str, seconds: float = 2.0) -> str:
    """What an SSE stream sends in its first seconds (its backlog, then live changes)."""
    chunks = []
    async with client.stream("GET", path) as response:
        chunks.append(f"{response.status_code}")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                async for chunk in response.aiter_text():
                    chunks.append(chunk)
    return "".join(chunks)


async def _sign_in(client: httpx.AsyncClient, token: str) -> bool:
    """Sign in to the pages with a token as a person would (form, cookie); False if the
    role has no pages."""
    page = await client.get("/sign-in")
    found = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    response = await client.post(
        "/sign-in", data={"form_token": found.group(1), "token": token, "next": ""}
    )
    return response.status_code == 303


async def test_no_canary_reaches_any_response_to_a_non_sender_nor_any_log_line(
    stack: Stack, gw: LiveGateway, gateway_logs: _Lines, request: pytest.FixtureRequest
):
    ids = [str(uuid.uuid4()) for _ in EVERY_TYPE]
    records = [
        (b"MK-RS", stack.signed(kind, data, SENDER, event_id=event_id))
        for (kind, data), event_id in zip(EVERY_TYPE.items(), ids, strict=True)
    ]
    await produce(stack.bootstrap, INGEST, records)

    async def processed() -> bool:
        shared = {
            json.loads(r.value)["provenance"]["event_id"]
            for r in await read_topic(stack.bootstrap, SHARED)
        }
        alerted = await read_topic(stack.bootstrap, alerts_topic("pcc-plav"))
        return set(ids) <= shared and bool(alerted)

    await wait_until(processed, 90, "every canary event shared and an alert at PCC Plav")

    async def gateway_has_them() -> bool:
        async with httpx.AsyncClient(base_url=gw.base, timeout=10) as client:
            sender = gw.auth(Role.PUBLISHER, agency=SENDER)
            plav = gw.auth(Role.PCC_OPERATOR, pcc="pcc-plav")
            response = await client.get("/v1/events", headers=sender)
            alerts = await client.get("/v1/alerts", headers=plav)
        return all(i in response.text for i in ids) and alerts.json() != []

    await wait_until(gateway_has_them, 60, "the gateway holding the events and the alert")

    answers = 0
    leaks: list[str] = []
    signed_in: set[Role] = set()
    async with httpx.AsyncClient(base_url=gw.base, timeout=15) as client:
        # The sender sees its own events in full: the canaries really are in the system.
        own = await client.get("/v1/events", headers=gw.auth(Role.PUBLISHER, agency=SENDER))
        assert CANARY in own.text, own.text[:300]
        alert_ids = [
            a["id"]
            for a in (
                await client.get("/v1/alerts", headers=gw.auth(Role.PCC_OPERATOR, pcc="pcc-plav"))
            ).json()
        ]
        for role, binding in READERS:
            headers = gw.auth(role, **binding)
            who = f"{role.value} {binding}"
            paths = API + [f"/v1/alerts/{a}" for a in alert_ids]
            paths += [f"/v1/events/{i}" for i in ids]
            for path in paths:
                response = await client.get(path, headers=headers)
                answers += 1
                leaks += [f"{who} GET {path}: {n}" for n in _leaks(response.text)]
            for path in STREAMS[:1]:
                client.headers.update(headers)
                text = await _stream(client, path)
                client.headers.pop("Authorization")
                answers += 1
                leaks += [f"{who} GET {path}: {n}" for n in _leaks(text)]
        for role, binding in READERS:
            who = f"{role.value} {binding} (pages)"
            async with httpx.AsyncClient(base_url=gw.base, timeout=15) as browser:
                if not await _sign_in(browser, gw.token(role, **binding)):
                    continue
                signed_in.add(role)
                pages = PAGES + [f"/console/alerts/{a}" for a in alert_ids]
                for path in pages:
                    response = await browser.get(path)
                    answers += 1
                    leaks += [f"{who} GET {path}: {n}" for n in _leaks(response.text)]
                text = await _stream(browser, STREAMS[1])
                answers += 1
                leaks += [f"{who} GET {STREAMS[1]}: {n}" for n in _leaks(text)]
    assert not leaks, leaks[:20]
    assert {Role.PCC_OPERATOR, Role.ANALYST} <= signed_in, "the pages were never opened"

    worker_lines = (stack.tmp / "worker.log").read_text(errors="replace").splitlines()
    logged = [line for line in [*worker_lines, *gateway_logs.lines] if _leaks(line)]
    assert not logged, logged[:10]
    assert len(worker_lines) > 10 and gateway_logs.lines, "no log was read: the scan proves nothing"
    record_figures(
        request,
        "canary leak scan",
        inputs=answers + len(worker_lines) + len(gateway_logs.lines),
        leaks=len(leaks) + len(logged),
        note=f"{answers} answers to {len(READERS)} non-sending principals (API, SSE, pages) "
        f"and {len(worker_lines) + len(gateway_logs.lines)} log lines scanned",
    )
