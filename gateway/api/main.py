"""The FastAPI application: routers, problem+json errors, metrics, lifespan of the service."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi

from gateway import metrics
from gateway.api.problems import install_problem_handlers
from gateway.api.routes import alerts, audit, events, ops, receipts, sign_in_codes, stats
from gateway.service import GatewayService
from gateway.web.routes import install_web
from schemas.envelope import Envelope

DESCRIPTION = """The HTTP face of WBX, the Western Balkans eXchange.

* **Publishers** (national systems) submit signed CloudEvents envelopes.
* **PCC operators** read, stream and acknowledge the alerts of their Police Cooperation Centre.
* **Analysts** read regional statistics after disclosure control (small cells show "<5").

Authenticate with `Authorization: Bearer <token>` (tokens from `wbx tokens issue`). Errors
are RFC 9457 problem details.
"""


def create_app(service: GatewayService | None = None, *, manage: bool = True) -> FastAPI:
    """The gateway app; `manage=False` leaves starting/stopping the service to the caller."""
    gateway = service or GatewayService()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if manage:
            await gateway.start()
        try:
            yield
        finally:
            if manage:
                await gateway.stop()

    app = FastAPI(title="WBX gateway", version="1.0.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.service = gateway
    install_problem_handlers(app)
    for module in (events, receipts, alerts, stats, audit, sign_in_codes, ops):
        app.include_router(module.router)
    install_web(app)

    @app.middleware("http")
    async def count_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        label = getattr(route, "path", "unmatched")
        metrics.REQUESTS.labels(label, str(response.status_code)).inc()
        metrics.LATENCY.labels(label).observe(time.perf_counter() - started)
        return response

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            envelope = Envelope.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(envelope.pop("$defs", {}))
            components["Envelope"] = envelope
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
