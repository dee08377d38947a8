"""The gateway's audit chain: acknowledgements, escalations, sign-ins and exports are on it,
linked and signed, and nothing happens unrecorded when Kafka is away."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio

from gateway.api.main import create_app
from gateway.audit import AuditTrail
from gateway.auth import Role
from schemas.audit import AuditAction, AuditChain, AuditRecord, BreakKind, Stored, verify_audit
from schemas.topics import AUDIT, AUDIT_CHECKPOINTS
from tests.factories import AUDIT_KEY, NOW, fine_cell, make_alert, make_audit_fact
from tests.gateway.conftest import RecordingService
from tests.gateway.test_routes import DAY, auth
from tests.gateway.test_web import sign_in


@pytest_asyncio.fixture
async def client(service: RecordingService) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(service, manage=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        yield client


def _trail(service: RecordingService) -> list[AuditRecord]:
    return [AuditRecord.model_validate_json(v) for t, _, v in service.audited if t == AUDIT]


def _verified(service: RecordingService) -> None:
    chain = service.audit.chain
    stored = [Stored(0, i, v) for i, (t, _, v) in enumerate(service.audited) if t == AUDIT]
    report = verify_audit(stored, {chain.signer: chain.public_key}, topic=AUDIT)
    assert report.ok, report.breaks
    assert {k for t, k, _ in service.audited if t == AUDIT} == {chain.chain.encode()}


async def test_an_acknowledgement_and_an_escalation_go_on_the_gateways_signed_chain(
    client, service, clock
):
    clock.append(datetime.now(UTC))
    acked, ignored = make_alert("pcc-trebinje"), make_alert("pcc-trebinje", alert_id="other")
    for alert in (acked, ignored):
        service.view("pcc-trebinje").apply_alert(alert, clock[0])
    operator = auth(service, Role.PCC_OPERATOR, pcc="pcc-trebinje")
    response = await client.post(f"/v1/alerts/{acked.id}/ack", json={"note": "on it"},
                                 headers=operator)  # fmt: skip
    assert response.status_code == 200, response.text
    clock[0] += timedelta(hours=1)
    assert await service.escalate_due() == 1
    records = _trail(service)
    assert [(r.action, r.target, r.recipient) for r in records] == [
        (AuditAction.ACKNOWLEDGE, acked.id, "pcc:pcc-trebinje"),
        (AuditAction.ESCALATE, ignored.id, "pcc:pcc-trebinje"),
    ]
    assert records[0].actor == "pcc_operator:pcc-trebinje" and records[0].detail == "on it"
    assert records[0].events == [e.event_id for e in acked.events]
    _verified(service)


async def test_sign_ins_and_csv_exports_are_audited(service):
    transport = httpx.ASGITransport(app=create_app(service, manage=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as browser:
        service.stats.apply_fine(fine_cell(DAY, 12, nationality="AFG"))
        token = service.authority.issue(Role.ANALYST, analyst="ana")
        assert (await sign_in(browser, token)).status_code == 303
        query = "view=nationality"
        download = await browser.get(f"/dashboard.csv?{query}")
        assert download.status_code == 200, download.text
    records = _trail(service)
    assert [(r.action, r.actor) for r in records] == [
        (AuditAction.SIGN_IN, "analyst:ana"),
        (AuditAction.EXPORT, "analyst:ana"),
    ]
    assert records[0].detail == "signed in with a token"
    assert records[1].target is not None and records[1].target.endswith(".csv")
    assert records[1].detail == query
    _verified(service)


async def test_a_checkpoint_follows_the_records_it_names(service):
    await service.record(make_audit_fact(1))
    await service.audit.checkpoint()
    await service.audit.checkpoint()  # nothing new: nothing sent
    assert [t for t, _, _ in service.audited] == [AUDIT, AUDIT_CHECKPOINTS]


async def test_records_wait_in_order_while_kafka_is_away_and_then_the_action_is_refused():
    sent: list[bytes] = []
    up = False

    async def send(topic: str, key: bytes, value: bytes) -> None:
        if not up:
            raise OSError("broker away")
        sent.append(value)

    chain = AuditChain("gateway/test/run/gateway", AUDIT_KEY, "audit.test")
    trail = AuditTrail(chain, send, lambda: NOW, max_pending=2)
    await trail.record(make_audit_fact(1))
    await trail.record(make_audit_fact(2))
    assert trail.pending == 2
    with pytest.raises(Exception, match="2 audit records wait for Kafka"):
        await trail.record(make_audit_fact(3))
    up = True
    await trail.checkpoint()  # drains what waits, then the head
    records = [AuditRecord.model_validate_json(v) for v in sent[:2]]
    assert [r.seq for r in records] == [1, 2] and trail.pending == 0
    assert len(sent) == 3  # the checkpoint last


async def test_an_ack_is_refused_with_503_when_the_trail_cannot_take_it(client, service):
    alert = make_alert("pcc-trebinje")
    service.view("pcc-trebinje").apply_alert(alert, datetime.now(UTC))
    service.audit._max_pending = 0  # as if Kafka had been away for long
    operator = auth(service, Role.PCC_OPERATOR, pcc="pcc-trebinje")
    response = await client.post(f"/v1/alerts/{alert.id}/ack", headers=operator)
    assert response.status_code == 503
    assert service.sent == []  # not acknowledged anywhere: nothing happened unrecorded


@pytest.mark.parametrize(
    ("role", "binding"),
    [
        (Role.ANALYST, {"analyst": "ana"}),
        (Role.PCC_OPERATOR, {"pcc": "pcc-trebinje"}),
        (Role.PUBLISHER, {"agency": "RS-BP"}),
        (Role.ADMIN, {}),
    ],
)
async def test_only_the_data_protection_officer_queries_the_trail(client, service, role, binding):
    response = await client.get("/v1/audit", headers=auth(service, role, **binding))
    assert response.status_code == 403
    assert "needs dpo" in response.json()["detail"]


async def test_the_gateways_audit_key_is_public(client, service):
    response = await client.get("/v1/audit/key")
    assert response.status_code == 200
    assert response.json()["kid"] == service.audit.chain.signer


def test_a_break_in_the_gateways_chain_is_found(service):
    # The verifier the CLI uses holds the gateway's records to the same rule.
    chain = service.audit.chain
    first, second = (chain.link(make_audit_fact(n)) for n in (1, 2))
    stored = [Stored(0, 0, second.model_dump_json().encode())]
    report = verify_audit(stored, {chain.signer: chain.public_key}, topic=AUDIT)
    assert [b.kind for b in report.breaks] == [BreakKind.DELETED]
    assert first.seq == 1
