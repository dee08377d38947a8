"""`POST /v1/events`: authenticated ingest for systems that do not speak Kafka."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import AwareDatetime

from gateway.api.deps import PublisherPrincipal, ServiceDep
from gateway.api.models import EventResult, IngestOut
from gateway.api.problems import PROBLEM_RESPONSES
from gateway.auth import Principal
from gateway.service import GatewayService, SourceNotAllowedError
from gateway.views import AgencyEvents
from schemas import strict_json
from schemas.envelope import Envelope

router = APIRouter(prefix="/v1/events", tags=["events"])

_BODY_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/Envelope"},
                        {"type": "array", "items": {"$ref": "#/components/schemas/Envelope"}},
                    ]
                },
            },
            "application/cloudevents+json": {"schema": {"$ref": "#/components/schemas/Envelope"}},
            "application/cloudevents-batch+json": {
                "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Envelope"}}
            },
        },
    }
}


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the body is {declared} bytes; the limit is {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise HTTPException(413, f"the body exceeds the limit of {limit} bytes")
    return bytes(body)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=IngestOut,
    responses={
        **PROBLEM_RESPONSES,
        413: {"description": "Body or batch too large"},
        422: {"model": IngestOut, "description": "Every event was rejected (each with its reason)"},
    },
    openapi_extra=_BODY_SCHEMA,
    summary="Submit one signed envelope or an array of them",
)
async def create_events(
    request: Request, response: Response, service: ServiceDep, principal: PublisherPrincipal
) -> IngestOut:
    """Verify each envelope like the Verify stage and queue the accepted ones for Kafka.

    The token's agency must be every event's source. Replaying a request is harmless: events
    are identified by source and id. 202 when at least one event was accepted; 422 when none
    was (a revoked key, say), with the reason of each either way.
    """
    raw = await _read_limited(request, service.settings.max_body_bytes)
    try:
        # One level more than an envelope may have: the body can be an array of them.
        parsed: Any = strict_json.loads(raw, max_depth=strict_json.MAX_DEPTH + 1)
    except strict_json.NotIJsonError as exc:
        raise HTTPException(400, f"body: {exc}") from None
    items = parsed if isinstance(parsed, list) else [parsed]
    if not items:
        raise HTTPException(400, "the body is an empty array")
    if len(items) > service.settings.max_events_per_request:
        raise HTTPException(
            413,
            f"{len(items)} events; at most {service.settings.max_events_per_request} per request",
        )
    try:
        results = await service.ingest(items, principal)
    except SourceNotAllowedError as exc:
        raise HTTPException(403, str(exc)) from None
    accepted = sum(r.status == "accepted" for r in results)
    if not accepted:
        response.status_code = 422
    return IngestOut(
        accepted=accepted,
        rejected=len(results) - accepted,
        results=[EventResult.model_validate(r, from_attributes=True) for r in results],
    )


_ENVELOPES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The events, byte for byte as signed",
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Envelope"}}
            }
        },
    }
}


def _own(service: GatewayService, principal: Principal) -> AgencyEvents:
    view = service.events.get(principal.agency or "")
    if view is None:
        raise HTTPException(403, f"the token is bound to unknown agency {principal.agency!r}")
    return view


@router.get("", responses={**PROBLEM_RESPONSES, **_ENVELOPES}, response_class=Response)
async def read_events(
    service: ServiceDep,
    principal: PublisherPrincipal,
    since: Annotated[
        AwareDatetime | None, Query(description="events whose `time` is at or after this")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="events whose `time` is before this")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1_000)] = 100,
) -> Response:
    """The caller's agency's own verified events, newest first, in full and byte for byte
    as signed (their signatures still verify); never another agency's, and none past its
    sender's deadline. The gateway keeps the latest `WBX_GATEWAY_EVENTS_PER_AGENCY`."""
    found = _own(service, principal).query(service.clock(), since=since, until=until, limit=limit)
    return Response(b"[" + b",".join(e.raw for e in found) + b"]", media_type="application/json")


@router.get(
    "/{event_id}",
    responses={
        **PROBLEM_RESPONSES,
        200: {"description": "The event, byte for byte as signed"},
        404: {"description": "No such event of the caller's agency"},
    },
    response_class=Response,
)
async def read_event(event_id: str, service: ServiceDep, principal: PublisherPrincipal) -> Response:
    """One of the caller's agency's verified events by id; 404 for an id of another agency
    (whose events a publisher can never read), an unknown one or one past its deadline."""
    event = _own(service, principal).get(event_id, service.clock())
    if event is None:
        raise HTTPException(404, f"no verified event {event_id} of {principal.agency}")
    return Response(event.raw, media_type="application/json")


__all__ = ["Envelope", "router"]
