"""The worker's HTTP endpoints for operations: `/metrics`, `/healthz` and `/readyz`.

Served from a daemon thread (like prometheus-client's own server) on the metrics port, so
Kubernetes probes and Prometheus use one port. Readiness is what the agents report: hop 1
is ready once the key registry is loaded, hop 2 while it is not rebuilding its state.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app

Check = Callable[[], str]
"""A readiness check: "ok", or why not."""


def readiness(checks: dict[str, Check]) -> tuple[bool, dict[str, str]]:
    """Every check's answer, and whether all are "ok"."""
    answers = {name: check() for name, check in sorted(checks.items())}
    return all(v == "ok" for v in answers.values()), answers


def probes_app(checks: dict[str, Check]) -> Callable[..., Iterable[bytes]]:
    """A WSGI app: `/healthz` (the process answers), `/readyz` (the checks), else metrics."""
    metrics = make_wsgi_app()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            return _json(start_response, 200, {"status": "ok", "checks": {}})
        if path == "/readyz":
            ready, answers = readiness(checks)
            body = {"status": "ready" if ready else "not ready", "checks": answers}
            return _json(start_response, 200 if ready else 503, body)
        return metrics(environ, start_response)  # type: ignore[no-any-return]

    return app


def _json(start_response: Callable[..., Any], status: int, body: dict[str, Any]) -> list[bytes]:
    reason = {200: "OK", 503: "Service Unavailable"}[status]
    start_response(f"{status} {reason}", [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes arrive every few seconds: not worth a log line each."""


def serve(port: int, checks: dict[str, Check], host: str = "127.0.0.1") -> WSGIServer:
    """Serve the probes and metrics on `host:port` from a daemon thread."""
    server = make_server(host, port, probes_app(checks), WSGIServer, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, name="wbx-probes", daemon=True).start()
    return server
