"""Prometheus metrics of the stream worker."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_IN = Counter("wbx_stage_events_in_total", "Records read by a stage", ["stage"])
EVENTS_OUT = Counter(
    "wbx_stage_events_out_total", "Records written by a stage, by topic", ["stage", "topic"]
)
REJECTED = Counter("wbx_verify_rejected_total", "Records sent to quarantine, by reason", ["reason"])
OUTCOMES = Counter(
    "wbx_verify_outcomes_total",
    "Ingest records by outcome: verified + quarantined + replay = records read",
    ["outcome"],
)
AGENT_CRASHES = Counter(
    "wbx_agent_crashes_total", "Agents that raised and were restarted by faust", ["agent"]
)
REPLAYS = Counter("wbx_verify_replays_total", "Exact replays of accepted events, dropped")
DUPLICATES = Counter(
    "wbx_shared_duplicates_total", "Redelivered shared records ignored downstream", ["stage"]
)
LATE = Counter("wbx_stats_too_late_total", "Events past the statistics lateness, not counted")
UNROUTED = Counter(
    "wbx_route_unrouted_alerts_total", "Alerts on sections no PCC covers (not delivered)", ["rule"]
)
LATENCY = Histogram(
    "wbx_stage_latency_seconds",
    "Processing time of one record in a stage",
    ["stage"],
    buckets=(0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0),
)
END_TO_END = Histogram(
    "wbx_event_age_seconds",
    "Age of an event (now - its time) when it leaves the Protect stage",
    buckets=(0.01, 0.1, 0.5, 1, 5, 30, 60, 300, 3600, 86400),
)
LAG = Gauge(
    "wbx_consumer_lag",
    "Records behind the end, for every assigned partition (read or not)",
    ["topic", "partition"],
)
REREAD = Counter(
    "wbx_consumer_holes_reread_total",
    "Runs of records faust skipped and the worker read again (never acknowledged unread)",
    ["topic"],
)
STALLED = Gauge(
    "wbx_consumer_partition_stalled",
    "1 while an assigned partition is behind and unread for WBX_WORKER_STALL_AFTER seconds",
    ["topic", "partition"],
)
KEY_CHANGES = Counter(
    "wbx_worker_key_changes_total",
    "Records of wbx.keys.v1 read, by outcome (applied, unchanged, unsigned, conflict, unreadable)",
    ["outcome"],
)
KEY_REGISTRY_STALE = Counter(
    "wbx_verify_key_registry_stale_total",
    "Records verified before the key registry feed had caught up with their receipt time",
)
REBUILD_SECONDS = Gauge(
    "wbx_regional_rebuild_seconds",
    "How long hop 2 took to rebuild its state from the topics when it last took over",
)
STATE_ENTRIES = Gauge(
    "wbx_state_entries",
    "Entries held by each bounded in-memory structure of the worker (docs/processing.md)",
    ["structure"],
)
ALERTS = Counter(
    "wbx_route_alerts_total",
    "Alert revisions sent to a PCC's topic, by PCC, rule and severity",
    ["pcc", "rule", "severity"],
)
