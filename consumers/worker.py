"""Build the worker from settings and run it: `wbx worker` calls `run_worker`."""

from __future__ import annotations

import logging
import socket
import uuid
from datetime import UTC, datetime
from functools import partial

import faust

from consumers import metrics
from consumers.aggregate import StatsState
from consumers.app import create_app, declare_topics
from consumers.pipeline import install_agents
from consumers.probes import Check, serve
from consumers.protect import load_policy, open_shared
from consumers.pseudonyms import Pseudonymiser
from consumers.receipts import ReceiptSigner
from consumers.route import Router
from consumers.rules import load_rules
from consumers.settings import Hops, WorkerSettings
from consumers.state import RegionalState
from schemas.audit import chain_id
from schemas.disclosure import load_ptable
from schemas.errors import ConfigurationError
from schemas.keys import load_or_create_private_key
from schemas.reference import load_reference
from schemas.registry_log import RegistryLog
from schemas.settings import ContractSettings, KafkaSettings
from schemas.topics import INGEST, load_topic_plan
from schemas.verification import Verifier

logger = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def build_worker_app(
    kafka: KafkaSettings | None = None,
    worker: WorkerSettings | None = None,
    contract: ContractSettings | None = None,
) -> tuple[faust.App, dict[str, Check]]:
    """The configured faust App with every agent installed (fails early on bad
    configuration), and the readiness checks of its hops."""
    kafka = kafka or KafkaSettings()
    worker = worker or WorkerSettings()
    contract = contract or ContractSettings()
    reference = load_reference(contract.reference_file)
    pcc_ids, agency_ids = sorted(reference.pccs), sorted(reference.agencies)
    plan = {spec.name: spec for spec in load_topic_plan(kafka.topics_file, pcc_ids, agency_ids)}
    app = create_app(kafka, worker)
    topics = declare_topics(app, pcc_ids, agency_ids)
    # The replay guard's table belongs to hop 1 (its changelog is `wbx-seen-changelog`).
    seen = (
        app.Table(
            "seen",
            default=None,
            partitions=plan[INGEST].partitions,
            key_type=str,
            value_type=str,
        )
        if worker.hops is not Hops.AGGREGATE
        else None
    )
    shredder = contract.shredder()
    regional = RegionalState(
        StatsState(load_ptable(contract.ptable_file), lateness=worker.stats_lateness),
        Router(load_rules(worker.alert_rules_file), reference),
        worker.state_horizon,
        opener=lambda record, now: open_shared(record, shredder, now),
    )
    keys = RegistryLog.from_settings(
        contract, lambda outcome: metrics.KEY_CHANGES.labels(outcome.value).inc()
    )
    checks = install_agents(
        app,
        topics,
        kafka,
        verifier=Verifier.from_settings(contract, keys.registry),
        keys=keys,
        key_fresh_wait=worker.key_fresh_wait,
        seen=seen,
        replay_horizon=worker.replay_horizon,
        policy=load_policy(worker.policy_file),
        pseudonymiser=Pseudonymiser(
            worker.pseudonym_secret_bytes(kafka.embedded), worker.pseudonym_key_id
        ),
        regional=regional,
        max_record_bytes=worker.max_record_bytes,
        max_receipt_delay=worker.max_receipt_delay,
        flush_interval=worker.stats_flush_interval,
        clock=_now,
        hops=worker.hops,
        receipts=ReceiptSigner(load_or_create_private_key(worker.receipt_key_file)),
        audit_run=partial(chain_id, "worker", socket.gethostname(), uuid.uuid4().hex[:12]),
        audit_checkpoint_interval=worker.audit_checkpoint_interval,
        shredder=shredder,
        stall_after=worker.stall_after,
    )
    return app, checks


def run_worker(
    kafka: KafkaSettings | None = None,
    worker: WorkerSettings | None = None,
    contract: ContractSettings | None = None,
) -> None:
    """Run the stream worker until it is stopped (SIGINT/SIGTERM)."""
    worker = worker or WorkerSettings()
    # The worker's own level (faust leaves the root logger's handlers, ours, alone).
    logging.getLogger().setLevel(worker.log_level.upper())
    app, checks = build_worker_app(kafka, worker, contract)
    if worker.metrics_port:
        try:
            serve(worker.metrics_port, checks, worker.metrics_host)
        except OSError as exc:  # another worker on this host has the default port
            raise ConfigurationError(
                f"port {worker.metrics_port} on {worker.metrics_host} for the worker's metrics "
                f"and probes is not free ({exc.strerror}): give each worker on this host its "
                "own WBX_WORKER_METRICS_PORT (0 turns them off)"
            ) from None
        address = f"{worker.metrics_host}:{worker.metrics_port}"
        logger.info("metrics, /healthz and /readyz on http://%s", address)
    faust.Worker(app, loglevel=worker.log_level, override_logging=False).execute_from_commandline()
