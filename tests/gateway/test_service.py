"""The gateway service without a broker: ingest at the receipt time, acknowledgement, escalation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.auth import Principal, Role
from gateway.service import AlertNotFoundError, SourceNotAllowedError
from tests.factories import envelope, make_alert, signed

RECEIVED = datetime(2026, 11, 20, 12, 0, 0, 123_456, tzinfo=UTC)
PUBLISHER = Principal(subject="publisher:RS-BP", role=Role.PUBLISHER, agency="RS-BP")


async def test_ingest_judges_at_the_receipt_millisecond_and_stamps_the_record_with_it(
    service, key, clock
):
    clock.append(RECEIVED)
    limit = RECEIVED.replace(microsecond=123_000) - service.verifier.max_age
    inside = signed(envelope(time=limit + timedelta(milliseconds=1)), key)
    outside = signed(envelope(time=limit - timedelta(milliseconds=1)), key)
    results = await service.ingest([inside, outside], PUBLISHER)
    assert [r.reason for r in results] == ["ok", "too_old_or_future"]
    (queued,) = service.forwarder.outbox.peek(10)
    assert queued.timestamp_ms == int(RECEIVED.replace(microsecond=123_000).timestamp() * 1000)


async def test_ingest_refuses_a_batch_with_another_agencys_event(service, key):
    other = signed(envelope(agency="BA-BP"), key)  # BA-BP's source; RS-BP's token
    with pytest.raises(SourceNotAllowedError, match="RS-BP"):
        await service.ingest([other], PUBLISHER)
    assert service.forwarder.outbox.backlog() == 0


async def test_acknowledge_sends_one_action_and_unknown_alerts_are_refused(service):
    alert = make_alert("pcc-plav")
    service.view("pcc-plav").apply_alert(alert, datetime.now(UTC))
    state = await service.acknowledge("pcc-plav", alert.id, "operator:ana", "seen")
    again = await service.acknowledge("pcc-plav", alert.id, "operator:ana", None)
    assert state is again and state.acknowledged_by == "operator:ana"
    assert [a.action for a in service.sent] == ["acknowledge"]
    with pytest.raises(AlertNotFoundError):
        await service.acknowledge("pcc-trebinje", alert.id, "operator:ana", None)


async def test_escalation_follows_severity_deadlines_and_spares_acknowledged_alerts(service, clock):
    view = service.view("pcc-trebinje")
    critical, high, acked = (make_alert("pcc-trebinje", s) for s in ("critical", "high", "high"))
    for alert in (critical, high, acked):
        view.apply_alert(alert, RECEIVED)
    clock.append(RECEIVED)
    await service.acknowledge("pcc-trebinje", acked.id, "operator:ivo", None)
    clock[0] = RECEIVED + timedelta(minutes=3)
    assert await service.escalate_due() == 1  # critical after 2 minutes
    clock[0] = RECEIVED + timedelta(minutes=11)
    assert await service.escalate_due() == 1  # high after 10 minutes
    assert await service.escalate_due() == 0
    escalated = {a.alert_id for a in service.sent if a.action == "escalate"}
    assert escalated == {critical.id, high.id}
