"""`GET /v1/receipts`: a publisher reads its own agency's receipts and no one else's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest_asyncio

from gateway.api.main import create_app
from gateway.auth import Role
from gateway.settings import GatewaySettings
from gateway.views import AgencyReceipts
from schemas.keys import KeyRegistry
from schemas.receipts import Receipt
from schemas.settings import ContractSettings, KafkaSettings
from schemas.signed import parse_public_key, public_key_text
from tests.factories import RECEIPT_KEY, AgencyKey, make_receipt
from tests.gateway.conftest import RecordingService
from tests.gateway.test_routes import auth

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest_asyncio.fixture
async def client(service: RecordingService) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(service, manage=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        yield client


async def test_a_publisher_sees_its_own_receipts_newest_first_and_filtered(client, service):
    ok = make_receipt("RS-BP", "ok", offset=1, received_at=T0)
    bad = make_receipt("RS-BP", "bad_signature", offset=2, received_at=T0 + timedelta(minutes=1))
    other = make_receipt("BA-BP", "ok", offset=3, received_at=T0)
    for receipt in (ok, bad, other):
        service.receipts[receipt.agency].apply(receipt)
    headers = auth(service, Role.PUBLISHER, agency="RS-BP")
    listed = await client.get("/v1/receipts", headers=headers)
    assert listed.status_code == 200
    got = [Receipt.model_validate(r) for r in listed.json()]
    assert got == [bad, ok]  # exactly as signed, so each still verifies
    assert all(r.signature_valid(RECEIPT_KEY.public_key()) for r in got)
    only_bad = await client.get("/v1/receipts", params={"verdict": "bad_signature"},
                                headers=headers)  # fmt: skip
    assert [r["offset"] for r in only_bad.json()] == [2]
    until = {"until": (T0 + timedelta(seconds=30)).isoformat()}
    early = await client.get("/v1/receipts", headers=headers, params=until)
    assert [r["offset"] for r in early.json()] == [1]
    by_id = await client.get("/v1/receipts", params={"event_id": ok.event_id}, headers=headers)
    assert [r["offset"] for r in by_id.json()] == [1]


async def test_other_roles_and_anonymous_callers_are_refused(client, service):
    service.receipts["RS-BP"].apply(make_receipt("RS-BP"))
    for role, binding in ((Role.ANALYST, {"analyst": "a"}), (Role.PCC_OPERATOR,
                                                             {"pcc": "pcc-plav"})):  # fmt: skip
        refused = await client.get("/v1/receipts", headers=auth(service, role, **binding))
        assert refused.status_code == 403
    assert (await client.get("/v1/receipts")).status_code == 401


async def test_the_receipt_key_is_published_when_configured(
    client, service, tmp_path: Path, key: AgencyKey
):
    assert (await client.get("/v1/receipts/key")).status_code == 404
    KeyRegistry([key[1]]).save(tmp_path / "keys.json")
    public = public_key_text(RECEIPT_KEY.public_key())
    configured = RecordingService(
        GatewaySettings(
            token_key_file=tmp_path / "t.pem",
            audit_key_file=tmp_path / "audit-key.pem",
            outbox_dir=tmp_path / "o",
        ),
        KafkaSettings(bootstrap="127.0.0.1:1", idempotence=False),
        ContractSettings(key_registry=tmp_path / "keys.json", receipt_public_key=public),
    )
    transport = httpx.ASGITransport(app=create_app(configured, manage=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as other:
        body = (await other.get("/v1/receipts/key")).json()
    assert body["kid"] == make_receipt().signer and body["crv"] == "Ed25519"
    assert make_receipt().signature_valid(parse_public_key(body["x"]))


def test_the_view_keeps_one_receipt_per_record_within_its_bound():
    view = AgencyReceipts(capacity=3)
    first = make_receipt(offset=1)
    view.apply(first)
    again = make_receipt(offset=1, event_id=first.event_id)  # issued again after a crash
    view.apply(again)
    assert view.query() == [again]
    for offset in range(2, 7):
        view.apply(make_receipt(offset=offset))
    assert len(view) == 3 and [r.offset for r in view.query()] == [6, 5, 4]
    assert [r.offset for r in view.query(limit=2)] == [6, 5]
