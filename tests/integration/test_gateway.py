"""The gateway against the embedded broker and a real worker: access, alerts, stats, ingest."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.auth import Role
from schemas.derived import Alert
from schemas.topics import STATS, alerts_topic
from tests.factories import make_alert
from tests.integration.gateway_server import LiveGateway
from tests.integration.kafka_io import produce, read_topic, wait_until
from tests.integration.pipeline_stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


async def put_alert(stack: Stack, alert: Alert) -> None:
    await produce(
        stack.bootstrap,
        alerts_topic(alert.pcc),
        [(alert.id.encode(), alert.model_dump_json().encode())],
    )


async def sse(response: httpx.Response) -> AsyncIterator[tuple[int, dict[str, Any]]]:
    """Parse Server-Sent Events frames."""
    event_id, data = None, []
    async for line in response.aiter_lines():
        if line.startswith("id:"):
            event_id = int(line[3:].strip())
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and data:
            yield event_id or 0, json.loads("".join(data))
            event_id, data = None, []


async def list_alerts(
    gw: LiveGateway, role: Role = Role.PCC_OPERATOR, **binding: str
) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=gw.base) as client:
        response = await client.get("/v1/alerts", headers=gw.auth(role, **binding))
    assert response.status_code == 200, response.text
    return list(response.json())


# --- authorisation -------------------------------------------------------------------------

ENDPOINTS = [
    ("POST", "/v1/events", {Role.PUBLISHER}),
    ("GET", "/v1/alerts", {Role.PCC_OPERATOR}),
    ("GET", "/v1/alerts/stream", {Role.PCC_OPERATOR}),
    ("POST", "/v1/alerts/no-such-alert/ack", {Role.PCC_OPERATOR}),
    ("GET", "/v1/stats", {Role.ANALYST, Role.ADMIN}),
    ("GET", "/v1/stats.csv", {Role.ANALYST, Role.ADMIN}),
    ("GET", "/v1/events", {Role.PUBLISHER}),
    ("GET", "/v1/receipts", {Role.PUBLISHER}),
    ("GET", "/v1/audit", {Role.DPO}),
    ("GET", "/v1/audit/checkpoints", {Role.DPO, Role.ADMIN}),
]
BINDINGS: dict[Role, dict[str, str]] = {
    Role.PUBLISHER: {"agency": "BA-BP"},
    Role.PCC_OPERATOR: {"pcc": "pcc-trebinje"},
    Role.ANALYST: {"analyst": "marri"},
    Role.ADMIN: {},
    Role.DPO: {},
}


async def call(gw: LiveGateway, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=gw.base, timeout=10) as client:
        if path.endswith("/stream"):
            async with client.stream(method, path, headers=headers) as response:
                return response  # status is all we need; leaving the block closes it
        body = b"[]" if path == "/v1/events" else None
        return await client.request(method, path, headers=headers, content=body)


@pytest.mark.parametrize(("method", "path", "allowed"), ENDPOINTS)
@pytest.mark.parametrize("role", list(Role))
async def test_each_role_is_allowed_exactly_where_it_should_be(gw, method, path, allowed, role):
    response = await call(gw, method, path, gw.auth(role, **BINDINGS[role]))
    if role in allowed:
        assert response.status_code not in (401, 403), (role, path, response.status_code)
    elif role is Role.ADMIN and path.startswith("/v1/alerts") and not path.endswith("/ack"):
        assert response.status_code == 400  # admin must say which PCC
    else:
        assert response.status_code == 403, (role, path, response.status_code)
        assert response.headers["content-type"].startswith("application/problem+json")


def _forged() -> str:
    other = Ed25519PrivateKey.generate()
    claims = {
        "iss": "urn:wbx:gateway",
        "aud": "urn:wbx",
        "sub": "x",
        "role": "admin",
        "iat": int(time.time()),
        "exp": int(time.time()) + 600,
    }
    return jwt.encode(claims, other, algorithm="EdDSA")


@pytest.mark.parametrize(("method", "path", "allowed"), ENDPOINTS)
@pytest.mark.parametrize("case", ["missing", "expired", "forged", "garbage", "unsigned"])
async def test_missing_expired_forged_tokens_get_401_problem_and_no_data(
    gw, method, path, allowed, case
):
    tokens = {
        "expired": gw.service.authority.issue(
            Role.ADMIN, ttl=timedelta(seconds=1), now=datetime.now(UTC) - timedelta(hours=1)
        ),
        "forged": _forged(),
        "garbage": "not.a.token",
        "unsigned": jwt.encode({"role": "admin", "sub": "x"}, key=None, algorithm="none"),
    }
    headers = {} if case == "missing" else {"Authorization": f"Bearer {tokens[case]}"}
    response = await call(gw, method, path, headers)
    assert response.status_code == 401
    if not path.endswith("/stream"):
        problem = response.json()
        assert problem["status"] == 401 and "detail" in problem
        assert set(problem) <= {"type", "title", "status", "detail", "instance"}


async def test_wrong_binding_is_refused(gw):
    unknown_pcc = await call(gw, "GET", "/v1/alerts", gw.auth(Role.PCC_OPERATOR, pcc="pcc-nowhere"))
    assert unknown_pcc.status_code == 403
    other = await call(
        gw, "GET", "/v1/alerts?pcc=pcc-plav", gw.auth(Role.PCC_OPERATOR, pcc="pcc-trebinje")
    )
    assert other.status_code == 403


async def test_publisher_of_al_bp_cannot_publish_an_rs_bp_event(gw, stack):
    record = stack.signed(
        "death_or_missing_person", {"border_section": "MK-RS", "count": 1}, "RS-BP"
    )
    async with httpx.AsyncClient(base_url=gw.base) as client:
        response = await client.post(
            "/v1/events", content=record, headers=gw.auth(Role.PUBLISHER, agency="AL-BP")
        )
    assert response.status_code == 403
    assert "RS-BP" in response.json()["detail"]
    queued = [e.event_id for e in gw.service.forwarder.outbox.peek(10_000)]
    assert json.loads(record)["id"] not in queued


# --- ingest --------------------------------------------------------------------------------


async def test_ingest_reports_each_event_and_a_replayed_request_is_harmless(gw, stack):
    good = stack.signed("death_or_missing_person", {"border_section": "MK-RS", "count": 1}, "BA-BP")
    bad = good.replace(b'"count":1', b'"count":9')
    assert bad != good
    body = b"[" + good + b"," + bad + b"]"
    headers = {**gw.auth(Role.PUBLISHER, agency="BA-BP"), "content-type": "application/json"}
    async with httpx.AsyncClient(base_url=gw.base) as client:
        first = await client.post("/v1/events", content=body, headers=headers)
        again = await client.post("/v1/events", content=body, headers=headers)
    assert first.status_code == 202
    results = first.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected"]
    assert results[1]["reason"] == "bad_signature"
    assert again.json()["accepted"] == 1
    event_id = json.loads(good)["id"]

    async def shared_once() -> bool:
        from tests.integration.kafka_io import read_topic

        ids = [
            json.loads(r.value)["provenance"]["event_id"]
            for r in await read_topic(stack.bootstrap, "wbx.shared.v1")
        ]
        return ids.count(event_id) == 1

    await wait_until(shared_once, 60, "the HTTP event in wbx.shared.v1 exactly once")


async def test_oversized_body_gets_413(gw):
    headers = gw.auth(Role.PUBLISHER, agency="BA-BP")
    big = b"[" + b"1," * (gw.service.settings.max_body_bytes // 2) + b"1]"
    async with httpx.AsyncClient(base_url=gw.base) as client:
        response = await client.post("/v1/events", content=big, headers=headers)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


# --- alerts --------------------------------------------------------------------------------


async def test_plav_operator_never_sees_a_trebinje_alert_by_list_or_stream(gw, stack):
    plav_headers = gw.auth(Role.PCC_OPERATOR, pcc="pcc-plav")
    trebinje = make_alert("pcc-trebinje")
    plav = make_alert("pcc-plav", section="AL-ME")
    seen = []
    async with (
        httpx.AsyncClient(base_url=gw.base, timeout=10) as client,
        client.stream("GET", "/v1/alerts/stream", headers=plav_headers) as response,
    ):
        await put_alert(stack, trebinje)
        await put_alert(stack, plav)
        async for _, body in sse(response):
            seen.append(body["id"])
            if body["id"] == plav.id:
                break
    assert trebinje.id not in seen
    listed = {a["id"] for a in await list_alerts(gw, pcc="pcc-plav")}
    assert plav.id in listed and trebinje.id not in listed
    assert trebinje.id in {a["id"] for a in await list_alerts(gw, pcc="pcc-trebinje")}


async def test_stream_delivers_within_one_second_and_resumes_without_loss(gw, stack):
    headers = gw.auth(Role.PCC_OPERATOR, pcc="pcc-trebinje")
    first = make_alert("pcc-trebinje")
    async with httpx.AsyncClient(base_url=gw.base, timeout=10) as client:
        async with client.stream("GET", "/v1/alerts/stream", headers=headers) as response:
            stream = sse(response)
            await put_alert(stack, first)  # returns once the broker acknowledged it
            reached = time.monotonic()
            last_id, body = await asyncio.wait_for(anext(stream), timeout=1.0)
            delay = time.monotonic() - reached
            assert body["id"] == first.id, "the first event on a fresh stream is the new alert"
        missed = [make_alert("pcc-trebinje") for _ in range(3)]
        for alert in missed:
            await put_alert(stack, alert)

        async def in_view() -> bool:
            ids = {a["id"] for a in await list_alerts(gw, pcc="pcc-trebinje")}
            return all(a.id in ids for a in missed)

        await wait_until(in_view, 10, "the alerts sent while disconnected")
        resumed = {**headers, "Last-Event-ID": str(last_id)}
        got = []
        async with client.stream("GET", "/v1/alerts/stream", headers=resumed) as response:
            async for _, body in sse(response):
                got.append(body["id"])
                if len(got) == len(missed):
                    break
    assert got == [a.id for a in missed]
    assert delay < 1.0


async def test_acknowledgement_records_who_and_when_and_stops_escalation(gw, stack):
    alert = make_alert("pcc-trebinje", severity="critical")
    await put_alert(stack, alert)

    async def listed() -> bool:
        return alert.id in {a["id"] for a in await list_alerts(gw, pcc="pcc-trebinje")}

    await wait_until(listed, 10, "the alert in the view")
    async with httpx.AsyncClient(base_url=gw.base) as client:
        response = await client.post(
            f"/v1/alerts/{alert.id}/ack",
            headers=gw.auth(Role.PCC_OPERATOR, pcc="pcc-trebinje"),
            json={"note": "team dispatched"},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "acknowledged"
    assert body["acknowledged_by"] == "pcc_operator:pcc-trebinje" and body["acknowledged_at"]
    gw.clock.offset = timedelta(hours=1)
    try:
        await asyncio.sleep(0.6)  # several escalation passes
        states = {a["id"]: a["status"] for a in await list_alerts(gw, pcc="pcc-trebinje")}
        assert states[alert.id] == "acknowledged"
    finally:
        gw.clock.offset = timedelta()


async def test_escalation_fires_for_critical_after_two_and_high_after_ten_minutes(gw, stack):
    critical, high = make_alert("pcc-trebinje", "critical"), make_alert("pcc-trebinje", "high")
    await put_alert(stack, critical)
    await put_alert(stack, high)

    async def statuses() -> dict[str, str] | None:
        found = {a["id"]: a["status"] for a in await list_alerts(gw, pcc="pcc-trebinje")}
        return found if critical.id in found and high.id in found else None

    first = await wait_until(statuses, 10, "both alerts")
    assert (first[critical.id], first[high.id]) == ("open", "open")
    gw.clock.offset = timedelta(minutes=1, seconds=50)
    await asyncio.sleep(0.6)
    now = await statuses()
    assert now is not None and now[critical.id] == "open" and now[high.id] == "open"
    gw.clock.offset = timedelta(minutes=3)

    async def critical_escalated() -> bool:
        got = await statuses()
        return bool(got and got[critical.id] == "escalated")

    await wait_until(critical_escalated, 5, "the critical alert to escalate")
    assert (await statuses() or {})[high.id] == "open"
    gw.clock.offset = timedelta(minutes=11)

    async def high_escalated() -> bool:
        got = await statuses()
        return bool(got and got[high.id] == "escalated")

    await wait_until(high_escalated, 5, "the high alert to escalate")
    gw.clock.offset = timedelta()


# --- statistics ----------------------------------------------------------------------------


async def test_statistics_never_show_1_to_4_and_equal_the_topic(gw, stack):
    records = [
        stack.signed(
            "apprehension",
            {
                "border_section": "BA-ME",
                "direction": "entry",
                "group_size": n,
                "persons": [{"nationality": nat, "sex": "male"}] * n,
            },
            "BA-BP",
        )
        for n, nat in ((2, "IRN"), (7, "PAK"), (1, "CUB"))
    ]
    async with httpx.AsyncClient(base_url=gw.base) as client:
        posted = await client.post(
            "/v1/events",
            content=b"[" + b",".join(records) + b"]",
            headers=gw.auth(Role.PUBLISHER, agency="BA-BP"),
        )
        assert posted.json()["accepted"] == 3
        headers = gw.auth(Role.ANALYST, analyst="marri")

        async def cells() -> list[dict[str, Any]] | None:
            response = await client.get("/v1/stats?group_by=nationality", headers=headers)
            rows = response.json()["cells"]
            seen = {r["values"]["nationality"] for r in rows}
            # IRN (2) and CUB (1) may be left out: published as 0 (or shown as 5).
            return rows if {"PAK", "__total__"} <= seen else None

        rows = await wait_until(cells, 60, "nationality statistics")
        text = (await client.get("/v1/stats.csv?group_by=nationality", headers=headers)).text
        table, statement = text.split("\n\n")
        csv_rows = list(csv.DictReader(io.StringIO(table)))
        by_accept = await client.get(
            "/v1/stats?group_by=nationality", headers={**headers, "Accept": "text/csv"}
        )
        crossed = await client.get(
            "/v1/stats",
            params={"group_by": "border_section,nationality,sex", "period": "month"},
            headers=headers,
        )
    assert by_accept.headers["content-type"].startswith("text/csv")
    assert "protected by the cell key method" in statement
    for row in rows:
        assert row["count"] >= 5 and row["display"] == str(row["count"]), row
    for row in csv_rows:
        assert int(row["count"]) >= 5, row
    # A consumer of wbx.stats.v1 sees the values the API serves for the same cells.
    topic = {
        cell["key"]: cell["display"]
        for cell in (json.loads(r.value) for r in await read_topic(stack.bootstrap, STATS))
    }
    for row in rows:
        key = f"day|{row['window_start']}|persons|nationality|{row['values']['nationality']}"
        assert topic[key] == row["display"], key
    # The month crossed by section, nationality and sex: its margins are the published cells.
    month = {tuple(c["values"].values()): c for c in crossed.json()["cells"]}
    start = crossed.json()["cells"][0]["window_start"]
    for nat in ("IRN", "PAK", "CUB"):  # a table leaves out a 0; the topic may hold one
        margin = month.get(("__total__", nat, "__total__"), {"display": "0"})
        assert margin["display"] == topic.get(f"month|{start}|persons|nationality|{nat}", "0")
