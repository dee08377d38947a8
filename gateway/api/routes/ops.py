"""Operations: liveness, readiness, Prometheus metrics and the AsyncAPI description."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.api.deps import ServiceDep
from gateway.api.models import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
async def read_health() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
async def read_ready(service: ServiceDep) -> Response:
    """Broker reachable, topics present, views loaded."""
    checks: dict[str, str] = {}
    try:
        missing = await service.missing_topics()
        checks["broker"] = "ok"
        checks["topics"] = "ok" if not missing else f"missing: {', '.join(missing)}"
    except Exception as exc:  # any client error means "not ready", never a 500
        checks["broker"] = f"unreachable: {type(exc).__name__}"
        checks["topics"] = "unknown"
    checks["views"] = "ok" if service.feeds.loaded.is_set() else "loading"
    refused = service.forwarder.refused
    checks["producer"] = "ok" if refused is None else f"refused: {refused}"
    ready = all(v == "ok" for v in checks.values())
    body = Health(status="ready" if ready else "not ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response)
async def read_metrics() -> Response:
    """Prometheus metrics of this gateway process."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/asyncapi.json")
async def read_asyncapi(service: ServiceDep) -> JSONResponse:
    """The AsyncAPI 3.0 description of every topic: channels, messages, JSON Schemas."""
    return JSONResponse(service.asyncapi())
