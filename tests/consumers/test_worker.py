"""Which agents a worker process runs: both hops, or one of them in its own group."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from consumers.settings import Hops, WorkerSettings
from consumers.worker import build_worker_app, claim_instance
from schemas.settings import KafkaSettings


@pytest.mark.parametrize(
    ("hops", "group", "agents", "tables", "readiness"),
    [
        (
            Hops.BOTH,
            "wbx",
            {"verify-protect", "aggregate-route"},
            {"seen"},
            {"key_registry", "regional_state", "partitions"},
        ),
        (Hops.VERIFY, "wbx", {"verify-protect"}, {"seen"}, {"key_registry", "partitions"}),
        (
            Hops.AGGREGATE,
            "wbx-aggregate",
            {"aggregate-route"},
            set(),
            {"regional_state", "partitions"},
        ),
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
    assert app.conf.consumer_group_instance_id.startswith(f"{socket.gethostname()}-")


def test_workers_side_by_side_take_their_own_slots_and_a_restart_takes_the_freed_one(
    tmp_path: Path,
):
    worker = WorkerSettings(data_dir=tmp_path)
    first, first_claim = claim_instance(worker, "host")
    second, second_claim = claim_instance(worker, "host")
    assert (first, second) == ("host-0", "host-1")
    assert first_claim is not None and second_claim is not None
    # The first worker dies (the system drops its claim): its restart is host-0 again,
    # so the group gives it back its place instead of waiting for the dead member.
    first_claim.close()
    again, _ = claim_instance(worker, "host")
    assert again == "host-0"
    # Another group (hop 2 alone) in the same directory has slots of its own.
    aggregate = WorkerSettings(data_dir=tmp_path, hops=Hops.AGGREGATE)
    assert claim_instance(aggregate, "host")[0] == "host-0"


def test_an_explicit_name_or_no_static_membership_claims_nothing(tmp_path: Path):
    named = WorkerSettings(data_dir=tmp_path, instance_id="worker-a")
    assert claim_instance(named, "host") == ("worker-a", None)
    dynamic = WorkerSettings(data_dir=tmp_path, static_membership=False)
    assert claim_instance(dynamic, "host") == (None, None)
    assert not list(tmp_path.glob("*.lock"))
