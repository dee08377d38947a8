"""`wbx bench --quick`: every measurement runs and reports, on its own embedded broker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


@pytest.mark.timeout(600)
def test_the_quick_benchmark_measures_everything_and_writes_its_report(tmp_path: Path):
    report = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "wbx", "bench", "--quick", "--json", str(report)],
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3_000:]
    for line in ("ceiling (aiokafka verify+forward)", "pipeline, one worker", "two workers",
                 "one process per hop", "publish -> alert topic", "worker peak RSS",
                 "hop 2 take-over after 2000 shared records", "publish -> SSE client",
                 "gateway ingest, 8 requests in flight"):  # fmt: skip
        assert line in done.stdout, done.stdout
    body = json.loads(report.read_text())
    # Figures, not timings to assert: each was measured (positive) and the ratios follow.
    for name in ("ed25519_verifications_per_s", "ceiling_per_s", "one_worker_per_s",
                 "two_workers_per_s", "split_per_s"):  # fmt: skip
        assert body[name] > 0, name
    assert body["ratio_to_ceiling"] == pytest.approx(
        body["one_worker_per_s"] / body["ceiling_per_s"]
    )
    for latency in (body["latency"], body["split_latency"], body["sse_latency"]):
        assert latency["probes"] == 20 and latency["received"] == latency["probes"]  # all came
        assert 0 < latency["p50_ms"] <= latency["p95_ms"] <= latency["p99_ms"] <= latency["max_ms"]
    # One worker, one per hop (2), two workers (2): every process measured.
    assert len(body["worker_peak_rss_mb"]) == 5 and all(m > 0 for m in body["worker_peak_rss_mb"])
    # The take-over worker rebuilt from the whole history and holds every event of it once.
    takeover = body["takeover"]
    assert takeover["history"] == 2_000 and 0 < takeover["rebuild_seconds"] < takeover["seconds"]
    assert takeover["state_entries"]["counted"] == 2_001  # the history and the probe
    assert takeover["peak_rss_mb"] > 0
    # Every POST was accepted (the bench refuses to report otherwise), one by one and batched.
    ingest = body["ingest"]
    assert ingest["single_events"] == 100 and ingest["batch_events"] == 10 * 20
    assert ingest["single_per_s"] > 0 and ingest["batch_per_s"] > 0
    # Each worker's bounded structures were read from its gauges: hop 1's replay table holds
    # every one of the 300 events (plus the latency run's), hop 2 counted them too.
    first = body["worker_state"][0]
    assert first["hop"] == "both" and first["entries"]["seen"] >= 300
    assert first["entries"]["counted"] >= 300
    # The report judges every target, with the figure it judged.
    names = [t["name"] for t in body["targets"]]
    assert names[0] == "one worker / ceiling" and names[-1] == "worker peak RSS"
    assert body["targets"][0]["measured"] == pytest.approx(body["ratio_to_ceiling"])
    assert "against the targets:" in done.stdout
