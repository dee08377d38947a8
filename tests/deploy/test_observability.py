"""The Prometheus configuration and the Grafana dashboard under infra/deploy/: they parse,
and every query names only metrics the WBX components export."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

import consumers.metrics
import gateway.metrics
import producers.publisher  # noqa: F401 - registers the outbox backlog gauge
from consumers.settings import WorkerSettings
from gateway.settings import GatewaySettings

DEPLOY = Path(__file__).resolve().parents[2] / "infra" / "deploy"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "wbx.json"
METRIC = re.compile(r"\bwbx_[a-z0-9_]+")
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count",
            "_created"), "gauge": ("",)}  # fmt: skip


def _exported() -> set[str]:
    """Every series name the components' metrics can produce (children or not)."""
    assert consumers.metrics and gateway.metrics  # the imports register them
    names = set()
    for family in REGISTRY.collect():
        if family.name.startswith("wbx_"):
            names |= {family.name + s for s in SUFFIXES.get(family.type, ("",))}
    return names


def _queries() -> list[tuple[str, str]]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [(p["title"], t["expr"]) for p in panels for t in p["targets"]]


def test_every_dashboard_query_names_only_exported_metrics():
    exported = _exported()
    for title, expr in _queries():
        names = METRIC.findall(expr)
        assert names, (title, expr)
        unknown = [n for n in names if n not in exported]
        assert not unknown, f"{title}: {unknown} are not exported by any component"


def test_the_check_catches_a_metric_nobody_exports():
    assert "wbx_stage_events_in_total" in _exported()
    assert "wbx_stage_events_in_totals" not in _exported()


def test_the_dashboard_covers_what_operators_watch():
    joined = " ".join(expr for _, expr in _queries())
    for metric in ("wbx_stage_events_in_total", "wbx_verify_rejected_total",
                   "wbx_event_age_seconds_bucket", "wbx_consumer_lag", "wbx_route_alerts_total",
                   "wbx_gateway_alert_ack_seconds_bucket", "wbx_outbox_backlog",
                   "wbx_worker_key_changes_total"):  # fmt: skip
        assert metric in joined, metric
    datasource = json.loads(DASHBOARD.read_text())["panels"][0]["datasource"]["uid"]
    provisioned = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    assert datasource in {d["uid"] for d in provisioned["datasources"]}


def test_prometheus_scrapes_the_worker_and_the_gateway_on_their_default_ports():
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = {job["job_name"]: [t for c in job["static_configs"] for t in c["targets"]]
               for job in config["scrape_configs"]}  # fmt: skip
    worker_port = f":{WorkerSettings().metrics_port}"
    assert all(t.endswith(worker_port) for t in targets["wbx-worker-verify"])
    assert all(t.endswith(worker_port) for t in targets["wbx-worker-aggregate"])
    assert targets["wbx-gateway"] == [f"gateway:{GatewaySettings().port}"]
