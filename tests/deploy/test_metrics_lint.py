"""Prometheus's own linter accepts what every component exposes on /metrics."""

from __future__ import annotations

import shutil
import subprocess

from consumers.probes import probes_app
from gateway.api.routes.ops import read_metrics


def _promtool(exposition: str) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: `make test` installs Debian's prometheus package"
    return subprocess.run(
        [promtool, "check", "metrics"], input=exposition, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


def _worker_metrics() -> str:
    body: list[bytes] = []
    environ = {"PATH_INFO": "/metrics", "REQUEST_METHOD": "GET", "QUERY_STRING": ""}
    for chunk in probes_app({})(environ, lambda status, headers: None):
        body.append(chunk)
    return b"".join(body).decode()


def test_promtool_accepts_the_workers_metrics():
    exposition = _worker_metrics()
    assert "wbx_stage_events_in_total" in exposition
    checked = _promtool(exposition)
    assert checked.returncode == 0, checked.stdout + checked.stderr


async def test_promtool_accepts_the_gateways_metrics():
    exposition = bytes((await read_metrics()).body).decode()
    assert "wbx_http_requests_total" in exposition
    checked = _promtool(exposition)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_promtool_refuses_a_badly_named_metric():
    # The check can fail: a camelCase name is refused.
    bad = "# HELP wbxBadName x\n# TYPE wbxBadName gauge\nwbxBadName 1\n"
    assert _promtool(bad).returncode != 0
