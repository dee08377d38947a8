"""The worker's probes: /healthz answers, /readyz reflects its checks, the rest is metrics."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from consumers import metrics
from consumers.probes import serve
from wbx.broker import free_port


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def probes() -> tuple[str, dict[str, str]]:
    state = {"key_registry": "loading"}
    port = free_port()
    server = serve(port, {"key_registry": lambda: state["key_registry"]})
    yield f"http://127.0.0.1:{port}", state
    server.shutdown()


def test_readiness_follows_the_checks_and_health_does_not(probes):
    base, state = probes
    assert _get(f"{base}/healthz") == (200, json.dumps({"status": "ok", "checks": {}}))
    status, body = _get(f"{base}/readyz")
    assert status == 503 and json.loads(body)["checks"] == {"key_registry": "loading"}
    state["key_registry"] = "ok"
    status, body = _get(f"{base}/readyz")
    assert status == 200 and json.loads(body)["status"] == "ready"


def test_every_other_path_is_the_prometheus_exposition(probes):
    base, _ = probes
    assert metrics.EVENTS_IN  # the worker's metrics are registered, as in the worker
    status, body = _get(f"{base}/metrics")
    assert status == 200 and "wbx_stage_events_in_total" in body
