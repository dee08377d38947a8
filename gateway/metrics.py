"""Prometheus metrics of the gateway."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "wbx_http_requests_total", "HTTP requests by route and status", ["route", "status"]
)
LATENCY = Histogram("wbx_http_request_seconds", "HTTP request latency by route", ["route"])
INGEST = Counter("wbx_gateway_ingest_total", "Events submitted over HTTP by verdict", ["reason"])
SSE_CLIENTS = Gauge("wbx_gateway_sse_clients", "Open alert streams")
ACK_SECONDS = Histogram(
    "wbx_gateway_alert_ack_seconds",
    "Time from an alert reaching the gateway to its acknowledgement",
    buckets=(5, 15, 30, 60, 120, 300, 600, 1800, 3600, 14400),
)
UNREADABLE = Counter(
    "wbx_gateway_unreadable_records_total",
    "Records on a followed topic that could not be read or applied (ignored)",
    ["topic"],
)
AUDIT_PENDING = Gauge(
    "wbx_gateway_audit_pending", "Audit records of this gateway waiting for Kafka"
)
KEY_CHANGES = Counter(
    "wbx_gateway_key_changes_total",
    "Records of wbx.keys.v1 read, by outcome (applied, unchanged, unsigned, conflict, unreadable)",
    ["outcome"],
)
