"""Build the worker from settings and run it: `wbx worker` calls `run_worker`."""

from __future__ import annotations

import logging
import socket
import uuid
from datetime import UTC, datetime
from functools import partial
from typing import TextIO

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
from schemas.claims import try_claim
from schemas.disclosure import load_ptable
from schemas.errors import ConfigurationError
from schemas.keys import load_or_create_private_key
from schemas.reference import load_reference
from schemas.registry_log import RegistryLog
from schemas.settings import ContractSettings, KafkaSettings
from schemas.topics import INGEST, load_topic_plan
from schemas.verification import Verifier

logger = logging.getLogger(__name__)


MAX_INSTANCE_SLOTS = 64
"""Workers of one consumer group that one data directory on one host can hold at once."""
_HELD_CLAIMS: list[TextIO] = []
"""The instance slot claims of this process, held until it exits (one per app built)."""


def _now() -> datetime:
    return datetime.now(UTC)


def claim_instance(worker: WorkerSettings, host: str) -> tuple[str | None, TextIO | None]:
    """This worker's static member name and the claim that keeps it its own.

    A worker restarted after a crash claims the slot its predecessor held (the system
    dropped that claim with the process) and so rejoins under the same name: the group
    hands it the same partitions at once. Two workers side by side on one host take two
    slots, so they never fence each other.
    """
    if not worker.static_membership:
        return None, None
    if worker.instance_id:
        return worker.instance_id, None
    for slot in range(MAX_INSTANCE_SLOTS):
        handle = try_claim(worker.data_dir / f"{worker.group_id}.instance-{slot}.lock")
        if handle is not None:
            return f"{host}-{slot}", handle
    raise ConfigurationError(
        f"all {MAX_INSTANCE_SLOTS} instance slots of {worker.data_dir} are held by running "
        "workers: give this one its own WBX_WORKER_DATA_DIR or WBX_WORKER_INSTANCE_ID"
    )


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
    instance_id, claim = claim_instance(worker, socket.gethostname())
    app = create_app(kafka, worker, instance_id)
    if claim is not None:
        _HELD_CLAIMS.append(claim)
    if instance_id:
        logger.info("static member %s of consumer group %s", instance_id, worker.group_id)
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
