"""PCC alerts: list, live stream (Server-Sent Events, resumable), acknowledge."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from gateway.api.deps import AlertReader, OperatorPrincipal, ServiceDep, pcc_of
from gateway.api.models import AckIn, AlertOut
from gateway.api.problems import PROBLEM_RESPONSES
from gateway.api.sse import alert_stream
from gateway.audit import AuditBacklogFullError
from gateway.service import AlertNotFoundError
from schemas.derived import AlertStatus
from schemas.vocab import ImpactLevel

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])


@router.get("", responses=PROBLEM_RESPONSES)
async def read_alerts(
    service: ServiceDep,
    principal: AlertReader,
    status: AlertStatus | None = None,
    severity: ImpactLevel | None = None,
    since: Annotated[
        AwareDatetime | None, Query(description="alerts whose time is >= this (with offset)")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="alerts whose time is < this (with offset)")
    ] = None,
    pcc: Annotated[str | None, Query(description="admin only: which PCC")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> list[AlertOut]:
    """Alerts of the caller's PCC, newest first, filtered by status, severity and time."""
    view = service.view(pcc_of(principal, pcc, service))
    rows: list[AlertOut] = []
    for state in reversed(view.alerts.values()):
        alert = state.alert
        if status is not None and state.status is not status:
            continue
        if severity is not None and alert.severity is not severity:
            continue
        if since is not None and alert.time < since:
            continue
        if until is not None and alert.time >= until:
            continue
        rows.append(AlertOut.from_state(state))
        if len(rows) >= limit:
            break
    return rows


@router.get(
    "/stream",
    responses={
        **PROBLEM_RESPONSES,
        200: {"content": {"text/event-stream": {}}, "description": "alert changes as SSE"},
    },
    response_class=StreamingResponse,
)
async def stream_alerts(
    request: Request,
    service: ServiceDep,
    principal: AlertReader,
    pcc: Annotated[str | None, Query(description="admin only: which PCC")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """Live alert changes of the caller's PCC; reconnect with Last-Event-ID to resume."""
    return alert_stream(request, service.view(pcc_of(principal, pcc, service)), last_event_id)


@router.post(
    "/{alert_id}/ack",
    responses={**PROBLEM_RESPONSES, 404: {"description": "No such alert in this PCC"}},
)
async def create_alert_ack(
    alert_id: str,
    service: ServiceDep,
    principal: OperatorPrincipal,
    body: AckIn | None = None,
) -> AlertOut:
    """Acknowledge an alert: records who and when, for every gateway and the audit trail."""
    pcc = pcc_of(principal, None, service)
    try:
        state = await service.acknowledge(
            pcc, alert_id, principal.subject, body.note if body else None
        )
    except AlertNotFoundError as exc:
        raise HTTPException(404, str(exc)) from None
    except (OSError, AuditBacklogFullError) as exc:
        raise HTTPException(503, f"cannot record the acknowledgement now: {exc}") from None
    return AlertOut.from_state(state)
