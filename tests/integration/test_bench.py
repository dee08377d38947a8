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
                 "one process per hop", "publish -> alert topic", "worker peak RSS"):  # fmt: skip
        assert line in done.stdout, done.stdout
    body = json.loads(report.read_text())
    # Figures, not timings to assert: each was measured (positive) and the ratios follow.
    for name in ("ed25519_verifications_per_s", "ceiling_per_s", "one_worker_per_s",
                 "two_workers_per_s", "split_per_s"):  # fmt: skip
        assert body[name] > 0, name
    assert body["ratio_to_ceiling"] == pytest.approx(
        body["one_worker_per_s"] / body["ceiling_per_s"]
    )
    for latency in (body["latency"], body["split_latency"]):
        assert latency["probes"] == 20 and latency["received"] == latency["probes"]  # all came
        assert 0 < latency["p50_ms"] <= latency["p95_ms"] <= latency["p99_ms"] <= latency["max_ms"]
    # One worker, one per hop (2), two workers (2): every process measured.
    assert len(body["worker_peak_rss_mb"]) == 5 and all(m > 0 for m in body["worker_peak_rss_mb"])
