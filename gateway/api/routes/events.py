"""`POST /v1/events`: authenticated ingest for systems that do not speak Kafka."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status

from gateway.api.deps import PublisherPrincipal, ServiceDep
from gateway.api.models import EventResult, IngestOut
from gateway.api.problems import PROBLEM_RESPONSES
from gateway.service import SourceNotAllowedError
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


__all__ = ["Envelope", "router"]
