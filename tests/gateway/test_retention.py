"""Retention at the gateway: an alert past its sender's deadline (`retain_until`) leaves
the list, the stream backlog, the console and memory, by the service's clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest_asyncio

from gateway.api.main import create_app
from gateway.api.sse import frame
from gateway.auth import Role
from gateway.views import AlertState, PccAlerts, Removal
from tests.factories import make_alert
from tests.gateway.conftest import RecordingService
from tests.gateway.test_routes import auth
from tests.gateway.test_web import sign_in

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _alert(hours: int, pcc: str = "pcc-plav"):
    """An alert whose sender's deadline is `hours` after T0."""
    return make_alert(pcc, now=T0).model_copy(update={"retain_until": T0 + timedelta(hours=hours)})


@pytest_asyncio.fixture
async def client(service: RecordingService) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(service, manage=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        yield client


def test_expiry_drops_the_alert_and_every_change_showing_it_and_says_so_once():
    view = PccAlerts(capacity=10, backlog=10)
    short, long = _alert(1), _alert(48)
    view.apply_alert(short, T0)
    view.apply_alert(long, T0)
    assert view.expire(T0 + timedelta(minutes=59)) == []
    assert view.expire(T0 + timedelta(hours=1)) == [short.id]  # at the deadline itself
    assert list(view.alerts) == [long.id]
    changes = [state for _, state in view.since(0)]
    assert Removal(short.id) in changes
    assert not [s for s in changes if isinstance(s, AlertState) and s.alert.id == short.id]
    assert view.expire(T0 + timedelta(hours=2)) == []  # once
    seq, removal = view.since(0)[-1]
    assert (
        frame(seq, removal)
        == f'id: {seq}\nevent: removed\ndata: {{"id": "{short.id}"}}\n\n'.encode()
    )


async def test_the_api_list_and_the_console_stop_serving_it_at_the_deadline(
    client: httpx.AsyncClient, service: RecordingService, clock: list[datetime]
):
    clock.append(T0 + timedelta(minutes=30))
    alert = _alert(1)
    service.alerts["pcc-plav"].apply_alert(alert, T0)
    operator = auth(service, Role.PCC_OPERATOR, pcc="pcc-plav")
    listed = await client.get("/v1/alerts", headers=operator)
    assert [a["id"] for a in listed.json()] == [alert.id]
    token = service.authority.issue(Role.PCC_OPERATOR, pcc="pcc-plav")
    assert (await sign_in(client, token)).status_code == 303
    assert alert.id in (await client.get("/console")).text
    assert (await client.get(f"/console/alerts/{alert.id}")).status_code == 200

    clock[0] = T0 + timedelta(hours=1, seconds=1)  # the deadline passed; nothing ran since
    assert (await client.get("/v1/alerts", headers=operator)).json() == []
    assert alert.id not in (await client.get("/console")).text
    assert (await client.get(f"/console/alerts/{alert.id}")).status_code == 404
    assert alert.id not in service.alerts["pcc-plav"].alerts  # gone from memory too
    acked = await client.post(f"/v1/alerts/{alert.id}/ack", headers=operator, json={})
    assert acked.status_code == 404
