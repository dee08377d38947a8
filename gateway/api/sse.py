"""Server-Sent Events of one PCC's alert view, for the API stream and the console page.

Each change is a frame `id: <seq>` / `event: alert` / `data: <AlertOut JSON>`, or `event:
removed` / `data: {"id": ...}` when an alert's sender's deadline passes. A client that
reconnects with `Last-Event-ID` (browsers' EventSource does so by itself) gets the changes it
missed from the view's backlog, then the live ones; a keep-alive comment every 15 s keeps
proxies from closing a quiet stream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

from fastapi import HTTPException, Request
from fastapi.responses import StreamingResponse

from gateway import metrics
from gateway.api.models import AlertOut
from gateway.views import AlertState, PccAlerts, Removal

HEARTBEAT_SECONDS = 15.0


Display = Callable[[AlertState], dict[str, str]]
"""Extra, page-specific fields of a frame (the console adds the alert in the user's language)."""


def frame(seq: int, state: AlertState | Removal, display: Display | None = None) -> bytes:
    """One SSE frame of an alert change: `event: alert`, or `event: removed` with the id of
    an alert whose sender's deadline passed."""
    if isinstance(state, Removal):
        return f"id: {seq}\nevent: removed\ndata: {json.dumps({'id': state.alert_id})}\n\n".encode()
    out = AlertOut.from_state(state)
    if display is None:
        data = out.model_dump_json()
    else:
        data = json.dumps({**out.model_dump(mode="json"), "display": display(state)})
    return f"id: {seq}\nevent: alert\ndata: {data}\n\n".encode()


def alert_stream(
    request: Request,
    view: PccAlerts,
    last_event_id: str | None,
    after: str | None = None,
    display: Display | None = None,
) -> StreamingResponse:
    """The live changes of `view` after `last_event_id`, or else after `after` (the change a page
    was rendered at, so nothing between rendering and streaming is lost); 400 if not numbers."""
    try:
        resume_from = int(last_event_id) if last_event_id else int(after) if after else None
    except ValueError:
        raise HTTPException(400, "Last-Event-ID must be the integer id of an event") from None
    queue = view.subscribe()
    backlog = view.since(resume_from) if resume_from is not None else []

    async def events() -> AsyncIterator[bytes]:
        metrics.SSE_CLIENTS.inc()
        sent = resume_from if resume_from is not None else view.seq
        try:
            yield b"retry: 2000\n\n"
            for seq, state in backlog:
                sent = seq
                yield frame(seq, state, display)
            while not await request.is_disconnected():
                try:
                    change = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                if change is None:
                    break  # closed by the gateway: the client reconnects and resumes
                seq, state = change
                if seq > sent:
                    sent = seq
                    yield frame(seq, state, display)
        finally:
            view.unsubscribe(queue)
            metrics.SSE_CLIENTS.dec()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
