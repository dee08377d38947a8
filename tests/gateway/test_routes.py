"""Every route through the ASGI app, with a service that is not connected to Kafka.

The service is the real one, not started: its views are filled directly, accepted events land
in its outbox (no broker needed), and the one Kafka write of an acknowledgement is recorded.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest_asyncio

from gateway.api.main import create_app
from gateway.auth import Role
from gateway.service import GatewayService
from schemas.disclosure import KEY_SPACE
from schemas.errors import BrokerRefusedError
from tests.factories import PTABLE, agency_key, envelope, fine_cell, make_alert, signed
from tests.gateway.conftest import RecordingService

DAY = date(2026, 11, 20)


@pytest_asyncio.fixture
async def client(service: RecordingService) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(service, manage=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        yield client


def auth(service: GatewayService, role: Role, **binding: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {service.authority.issue(role, **binding)}"}


def fresh(key) -> dict[str, object]:
    return signed(envelope(time=datetime.now(UTC) - timedelta(minutes=5)), key)


# --- events ----------------------------------------------------------------------------------


async def test_post_events_queues_accepted_events_stamped_with_their_receipt_time(
    client, service, key
):
    good, bad = fresh(key), {**fresh(key), "wbximpact": "none"}
    before = datetime.now(UTC)
    response = await client.post(
        "/v1/events", json=[good, bad], headers=auth(service, Role.PUBLISHER, agency="RS-BP")
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    assert [r["reason"] for r in body["results"]] == ["ok", "bad_signature"]
    (queued,) = service.forwarder.outbox.peek(10)
    assert queued.event_id == f"{good['source']}|{good['id']}"
    assert queued.timestamp_ms is not None
    assert (
        before.timestamp() * 1000 - 1 <= queued.timestamp_ms <= datetime.now(UTC).timestamp() * 1000
    )
    refused = await client.post(
        "/v1/events", json=bad, headers=auth(service, Role.PUBLISHER, agency="RS-BP")
    )
    assert refused.status_code == 422  # nothing accepted: a 4xx, with each event's reason
    assert refused.json()["results"][0]["reason"] == "bad_signature"


async def test_post_events_refuses_bodies_with_4xx_problems(client, service, key):
    publisher = auth(service, Role.PUBLISHER, agency="RS-BP")
    cases = [
        (b'{"a":1,"a":2}', 400, "appears twice"),
        (b"[]", 400, "empty array"),
        (b"[" * 40 + b"]" * 40, 400, "levels deep"),
        (b"x" * 1_048_577, 413, "limit"),
    ]
    for content, status, needle in cases:
        response = await client.post("/v1/events", content=content, headers=publisher)
        assert response.status_code == status, (content[:20], response.text)
        assert needle in response.json()["detail"]
    other = signed(envelope(agency="BA-BP"), agency_key("BA-BP"))
    response = await client.post("/v1/events", json=other, headers=publisher)
    assert response.status_code == 403 and "RS-BP" in response.json()["detail"]
    assert (await client.post("/v1/events", json=fresh(key))).status_code == 401
    analyst = auth(service, Role.ANALYST, analyst="marri")
    assert (await client.post("/v1/events", json=fresh(key), headers=analyst)).status_code == 403


# --- alerts ----------------------------------------------------------------------------------


async def test_get_alerts_lists_the_callers_pcc_only_as_api_models(client, service):
    mine, theirs = make_alert("pcc-trebinje"), make_alert("pcc-plav")
    service.view("pcc-trebinje").apply_alert(mine, datetime.now(UTC))
    service.view("pcc-plav").apply_alert(theirs, datetime.now(UTC))
    operator = auth(service, Role.PCC_OPERATOR, pcc="pcc-trebinje")
    response = await client.get("/v1/alerts", headers=operator)
    assert response.status_code == 200
    (row,) = response.json()
    assert (row["id"], row["status"], row["acknowledged_by"]) == (mine.id, "open", None)
    assert "received_at" in row
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await client.get("/v1/alerts", params={"since": later}, headers=operator)).json() == []
    naive = await client.get(
        "/v1/alerts", params={"since": "2026-01-01T00:00:00"}, headers=operator
    )
    assert naive.status_code == 422


async def test_ack_records_the_operator_once_and_unknown_alerts_are_404(client, service):
    alert = make_alert("pcc-trebinje")
    service.view("pcc-trebinje").apply_alert(alert, datetime.now(UTC))
    operator = auth(service, Role.PCC_OPERATOR, pcc="pcc-trebinje")
    response = await client.post(
        f"/v1/alerts/{alert.id}/ack", json={"note": "on it"}, headers=operator
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "acknowledged"
    again = await client.post(f"/v1/alerts/{alert.id}/ack", headers=operator)
    assert again.status_code == 200
    assert [a.action for a in service.sent] == ["acknowledge"]
    assert (await client.post("/v1/alerts/nope/ack", headers=operator)).status_code == 404


async def test_stream_refuses_a_bad_last_event_id(client, service):
    operator = auth(service, Role.PCC_OPERATOR, pcc="pcc-trebinje")
    response = await client.get("/v1/alerts/stream", headers={**operator, "Last-Event-ID": "seven"})
    assert response.status_code == 400


# --- statistics ------------------------------------------------------------------------------


async def test_stats_as_json_and_csv_never_show_1_to_4_and_leave_out_0(client, service):
    afg = fine_cell(DAY, 12, nationality="AFG")
    # Three Syrians and three Iraqis: by their cell keys, one shows 0 (left out), one 5.
    syr = fine_cell(DAY, 3, nationality="SYR", key_sum=0)
    irq = fine_cell(DAY, 3, nationality="IRQ", key_sum=KEY_SPACE - 1)
    for cell in (afg, syr, irq):
        service.stats.apply_fine(cell)
    analyst = auth(service, Role.ANALYST, analyst="marri")
    params = {"group_by": "nationality"}
    body = (await client.get("/v1/stats", params=params, headers=analyst)).json()
    expected_afg = PTABLE.publish(12, afg.key_sum).display
    total = PTABLE.publish(18, (afg.key_sum + syr.key_sum + irq.key_sum) % KEY_SPACE).display
    assert [(c["values"], c["display"]) for c in body["cells"]] == [
        ({"nationality": "AFG"}, expected_afg),
        ({"nationality": "IRQ"}, "5"),
        ({"nationality": "__total__"}, total),
    ]
    assert "cell key method" in body["protection"] and body["group_by"] == ["nationality"]
    response = await client.get("/v1/stats.csv", params=params, headers=analyst)
    table, statement = response.text.split("\n\n")
    rows = list(csv.DictReader(io.StringIO(table)))
    assert [(r["nationality"], r["count"]) for r in rows] == [
        ("AFG", expected_afg),
        ("IRQ", "5"),
        ("__total__", total),
    ]
    assert "cell key method" in statement  # the CSV says how its figures were protected
    crossed = await client.get(
        "/v1/stats",
        params={"group_by": "border_section,sex", "nationality": "AFG"},
        headers=analyst,
    )
    assert crossed.status_code == 200
    assert {tuple(c["values"]) for c in crossed.json()["cells"]} == {("border_section", "sex")}
    for params, words in [
        ({"group_by": "border_section,nationality,sex,age_band"}, "at most 3 dimensions"),
        ({"group_by": "colour"}, "group_by: 'colour' is not one of"),
        ({"measure": "events", "group_by": "sex"}, "events cannot be broken down by sex"),
        ({"from": "2026-11-20", "to": "2026-11-01"}, "ends (2026-11-01) before it starts"),
    ]:
        refused = await client.get("/v1/stats", params=params, headers=analyst)
        assert refused.status_code == 400, params
        assert words in refused.json()["detail"], params


# --- operations and pages --------------------------------------------------------------------


async def test_the_asyncapi_description_is_served_with_this_deployments_alert_topics(client):
    served = await client.get("/asyncapi.json")
    assert served.status_code == 200 and served.json()["asyncapi"] == "3.0.0"
    addresses = {c["address"] for c in served.json()["channels"].values()}
    assert {"wbx.ingest.v1", "wbx.alerts.pcc-plav.v1", "wbx.alerts.pcc-trebinje.v1"} <= addresses


async def test_readiness_says_when_the_broker_refuses_the_gateways_producer(client, service):
    service.forwarder.refused = BrokerRefusedError("set WBX_KAFKA_IDEMPOTENCE=false")
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["producer"] == "refused: set WBX_KAFKA_IDEMPOTENCE=false"


async def test_health_readiness_metrics_and_the_front_door(client):
    assert (await client.get("/healthz")).json() == {"status": "ok", "checks": {}}
    ready = await client.get("/readyz")
    assert ready.status_code == 503  # no broker at 127.0.0.1:1
    assert ready.json()["checks"]["broker"].startswith("unreachable")
    assert ready.json()["checks"]["producer"] == "ok"
    assert "wbx_http_requests_total" in (await client.get("/metrics")).text
    home = await client.get("/")
    assert (home.status_code, home.headers["location"]) == (307, "/sign-in")


async def test_an_admin_turns_a_token_into_a_one_time_sign_in_code(client, service):
    operator = service.authority.issue(Role.PCC_OPERATOR, pcc="pcc-plav")
    admin = auth(service, Role.ADMIN)
    response = await client.post("/v1/sign-in-codes", json={"token": operator}, headers=admin)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["subject"] == "pcc_operator:pcc-plav" and len(body["code"]) == 8
    assert service.sign_in_codes.redeem(body["code"], datetime.now(UTC)) == operator
    refused = await client.post(
        "/v1/sign-in-codes",
        json={"token": operator},
        headers=auth(service, Role.PCC_OPERATOR, pcc="pcc-plav"),
    )
    assert refused.status_code == 403
    bad = await client.post("/v1/sign-in-codes", json={"token": "x"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["detail"].startswith("token:")
