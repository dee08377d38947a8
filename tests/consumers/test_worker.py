"""Which agents a worker process runs: both hops, or one of them in its own group."""

from __future__ import annotations

from pathlib import Path

import pytest

from consumers.settings import Hops, WorkerSettings
from consumers.worker import build_worker_app
from schemas.settings import KafkaSettings


@pytest.mark.parametrize(
    ("hops", "group", "agents", "tables", "readiness"),
    [
        (
            Hops.BOTH,
            "wbx",
            {"verify-protect", "aggregate-route"},
            {"seen"},
            {"key_registry", "regional_state"},
        ),
        (Hops.VERIFY, "wbx", {"verify-protect"}, {"seen"}, {"key_registry"}),
        (Hops.AGGREGATE, "wbx-aggregate", {"aggregate-route"}, set(), {"regional_state"}),
    ],
)
def test_a_worker_runs_the_hops_it_is_told_in_the_right_group(
    hops: Hops,
    group: str,
    agents: set[str],
    tables: set[str],
    readiness: set[str],
    tmp_path: Path,
):
    worker = WorkerSettings(
        hops=hops,
        data_dir=tmp_path,
        metrics_port=0,
        # pragma: allowlist nextline secret
        pseudonym_secret="test-secret-0123456789",
    )
    app, checks = build_worker_app(KafkaSettings(bootstrap="127.0.0.1:1"), worker)
    assert app.conf.id == group
    assert set(checks) == readiness
    assert {agent.name.rsplit(".", 1)[-1] for agent in app.agents.values()} == agents
    assert set(app.tables) == tables
