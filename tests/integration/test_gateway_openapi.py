"""Schemathesis against the gateway's own OpenAPI: no 5xx, no response that breaks the schema.

The gateway runs for real (uvicorn in a thread, embedded broker behind it), so readiness,
ingest and acknowledgements take their real paths. The alert stream is excluded: it is an
endless Server-Sent Events response by design (its behaviour is tested in test_gateway.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from gateway.api.main import create_app
from gateway.auth import Role
from gateway.service import GatewayService
from gateway.settings import GatewaySettings
from schemas.settings import ContractSettings, KafkaSettings
from tests.integration.pipeline_stack import start_stack, stop_stack
from wbx.broker import free_port

pytestmark = pytest.mark.integration


class Served:
    """A gateway served from a background thread."""

    def __init__(self, service: GatewayService) -> None:
        self.service = service
        self.port = free_port()
        config = uvicorn.Config(
            create_app(service), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "gateway did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp: Path = tmp_path_factory.mktemp("openapi")
    stack = start_stack(tmp)
    service = GatewayService(
        GatewaySettings(
            token_key_file=tmp / "token.pem",
            audit_key_file=tmp / "audit-key.pem",
            outbox_dir=tmp / "outbox",
        ),
        KafkaSettings(bootstrap=stack.bootstrap, idempotence=False),
        ContractSettings(key_registry=tmp / "keys.json"),
    )
    try:
        with Served(service) as live:
            yield live
    finally:
        stop_stack(stack)


def _headers(served: Served, path: str) -> dict[str, str]:
    authority = served.service.authority
    if path.startswith("/v1/events"):
        token = authority.issue(Role.PUBLISHER, agency="RS-BP")
    elif path.startswith("/v1/alerts"):
        token = authority.issue(Role.PCC_OPERATOR, pcc="pcc-trebinje")
    else:
        token = authority.issue(Role.ANALYST, analyst="schemathesis")
    return {"Authorization": f"Bearer {token}"}


def test_no_server_error_and_every_response_matches_the_schema(served: Served) -> None:
    # Driven by hand rather than schemathesis' pytest plugin, which does not support pytest 9.
    base = f"http://127.0.0.1:{served.port}"
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json").exclude(path="/v1/alerts/stream")
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()
        tested.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def exercise(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers=_headers(served, case.path),
                checks=[not_a_server_error, response_schema_conformance],
            )

        exercise()
    assert len(tested) >= 8, tested


def test_openapi_documents_every_route(served: Served) -> None:
    import httpx

    document = httpx.get(f"http://127.0.0.1:{served.port}/openapi.json").json()
    for route in (
        "/v1/events",
        "/v1/alerts",
        "/v1/alerts/stream",
        "/v1/alerts/{alert_id}/ack",
        "/v1/stats",
        "/v1/stats.csv",
        "/healthz",
        "/readyz",
        "/metrics",
    ):
        assert route in document["paths"], route
        for operation in document["paths"][route].values():
            assert operation.get("description") or operation.get("summary"), route
    assert "Envelope" in document["components"]["schemas"]
