"""`GET /v1/events`: a publisher reads back its own verified events, never another's, and
none past the sender's deadline."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio

from gateway.api.main import create_app
from gateway.auth import Role
from gateway.views import AgencyEvents, own_event
from tests.factories import agency_key, envelope, record, signed
from tests.gateway.conftest import RecordingService
from tests.gateway.test_routes import auth


@pytest_asyncio.fixture
async def client(service: RecordingService) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(service, manage=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        yield client


def _verified(service: RecordingService, agency: str, when: datetime, days: int = 30) -> bytes:
    obj = envelope(
        agency=agency,
        time=when,
        overrides={"wbxretainuntil": (when + timedelta(days=days)).isoformat()},
    )
    raw = record(signed(obj, agency_key(agency, when - timedelta(days=1))))
    found, event = own_event(raw)
    assert found == agency
    service.events[agency].apply(event)
    return raw


async def test_a_publisher_reads_its_own_events_in_full_and_never_another_agencys(
    client, service, clock
):
    now = datetime.now(UTC)
    clock.append(now)
    mine = [_verified(service, "RS-BP", now - timedelta(hours=h)) for h in (3, 2, 1)]
    theirs = _verified(service, "BA-BP", now - timedelta(hours=1))
    publisher = auth(service, Role.PUBLISHER, agency="RS-BP")

    listed = await client.get("/v1/events", headers=publisher)
    assert listed.status_code == 200, listed.text
    assert listed.content == b"[" + b",".join(reversed(mine)) + b"]"  # as signed, newest first
    recent = await client.get(
        "/v1/events", params={"since": (now - timedelta(hours=2, minutes=5)).isoformat()},
        headers=publisher,
    )  # fmt: skip
    assert [e["id"] for e in recent.json()] == [json.loads(r)["id"] for r in reversed(mine[1:])]

    one = json.loads(mine[0])["id"]
    by_id = await client.get(f"/v1/events/{one}", headers=publisher)
    assert by_id.status_code == 200 and by_id.content == mine[0]
    other = json.loads(theirs)["id"]
    refused = await client.get(f"/v1/events/{other}", headers=publisher)
    assert refused.status_code == 404
    assert json.loads(theirs)["source"] not in refused.text  # nothing of theirs shows


@pytest.mark.parametrize(
    ("role", "binding"),
    [(Role.ANALYST, {"analyst": "ana"}), (Role.PCC_OPERATOR, {"pcc": "pcc-trebinje"}),
     (Role.DPO, {})],
)  # fmt: skip
async def test_only_a_publisher_reads_events_back(client, service, role, binding):
    response = await client.get("/v1/events", headers=auth(service, role, **binding))
    assert response.status_code == 403


async def test_an_event_past_its_deadline_is_neither_served_nor_kept(client, service, clock):
    now = datetime.now(UTC)
    clock.append(now)
    raw = _verified(service, "RS-BP", now - timedelta(days=2), days=3)
    event_id = json.loads(raw)["id"]
    publisher = auth(service, Role.PUBLISHER, agency="RS-BP")
    assert (await client.get(f"/v1/events/{event_id}", headers=publisher)).status_code == 200
    clock[0] = now + timedelta(days=1, seconds=1)
    assert (await client.get(f"/v1/events/{event_id}", headers=publisher)).status_code == 404
    assert (await client.get("/v1/events", headers=publisher)).json() == []
    assert len(service.events["RS-BP"]) == 0


async def test_the_escalation_pass_drops_expired_events_nobody_asked_for(service, clock):
    now = datetime.now(UTC)
    clock.append(now)
    _verified(service, "RS-BP", now - timedelta(days=2), days=3)
    clock[0] = now + timedelta(days=2)
    await service.escalate_due()
    assert len(service.events["RS-BP"]) == 0


def test_the_view_keeps_the_latest_and_a_replayed_event_once():
    view = AgencyEvents(capacity=2)
    when = datetime(2026, 11, 20, tzinfo=UTC)
    events = []
    for n in range(3):
        obj = envelope(time=when, event_id=f"00000000-0000-4000-8000-00000000000{n}")
        events.append(own_event(record(obj))[1])
    for event in (*events, events[2]):
        view.apply(event)
    assert len(view) == 2
    found = view.query(when, since=None, until=None, limit=10)
    assert [e.event_id for e in found] == [events[2].event_id, events[1].event_id]
