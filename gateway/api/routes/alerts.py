"""PCC alerts: list, live stream (Server-Sent Events, resumable), acknowledge."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from gateway import metrics
from gateway.api.deps import AlertReader, OperatorPrincipal, ServiceDep, pcc_of
from gateway.api.models import AckIn, AlertOut
from gateway.api.problems import PROBLEM_RESPONSES
from gateway.service import AlertNotFoundError
from gateway.views import AlertState
from schemas.derived import AlertStatus
from schemas.vocab import ImpactLevel

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
HEARTBEAT_SECONDS = 15.0


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
    view = service.view(pcc_of(principal, pcc, service))
    try:
        resume_from = int(last_event_id) if last_event_id else None
    except ValueError:
        raise HTTPException(400, "Last-Event-ID must be the integer id of an event") from None
    queue = view.subscribe()
    backlog = view.since(resume_from) if resume_from is not None else []

    async def events() -> AsyncIterator[bytes]:
        metrics.SSE_CLIENTS.inc()
        sent = resume_from if resume_from is not None else view.seq
        try:
            yield b"retry: 2000\n\n"
            for seq, body in backlog:
                sent = seq
                yield _frame(seq, body)
            while not await request.is_disconnected():
                try:
                    seq, body = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                if seq > sent:
                    sent = seq
                    yield _frame(seq, body)
        finally:
            view.unsubscribe(queue)
            metrics.SSE_CLIENTS.dec()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _frame(seq: int, state: AlertState) -> bytes:
    data = AlertOut.from_state(state).model_dump_json()
    return f"id: {seq}\nevent: alert\ndata: {data}\n\n".encode()


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
    except OSError as exc:
        raise HTTPException(503, f"cannot record the acknowledgement now: {exc}") from None
    return AlertOut.from_state(state)
