"""The one faust App of WBX and the topics it reads and writes, all from the topic plan."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import faust
import faust.transport.consumer
import faust.transport.drivers.aiokafka as faust_aiokafka

from consumers.settings import WorkerSettings
from schemas import topics as names
from schemas.settings import KafkaSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Topics:
    """Faust topic objects for every topic the worker touches (raw bytes; we own the codec)."""

    ingest: Any
    quarantine: Any
    verified: Any
    shared: Any
    audit: Any
    audit_checkpoints: Any
    stats: Any
    stats_fine: Any
    alerts: dict[str, Any]
    receipts: dict[str, Any]


def _fetch_wait(max_wait_ms: int) -> None:
    """Make faust's stream consumers wait at most `max_wait_ms` in a fetch.

    faust hard-codes 1,500 ms (`AIOKafkaConsumerThread._create_worker_consumer`). Kafka
    answers a fetch as soon as data arrives, so there it is only the idle cap; a broker that
    holds the fetch instead (the embedded one) then delays every record by up to that much
    per hop. faust has no setting for it, so the consumer's value is set before it starts.
    """
    thread = faust_aiokafka.AIOKafkaConsumerThread
    original = getattr(thread, "_wbx_original_create", None) or thread._create_worker_consumer

    def create(self: Any, transport: Any) -> Any:
        consumer = original(self, transport)
        consumer._fetch_max_wait_ms = max_wait_ms
        return consumer

    thread._wbx_original_create = original  # type: ignore[attr-defined]
    thread._create_worker_consumer = create  # type: ignore[method-assign]


def broker_credentials(kafka: KafkaSettings) -> Any:
    """faust's credentials for the cluster's security settings (None: plaintext)."""
    context = kafka.ssl_context()
    if kafka.sasl_mechanism:
        password = kafka.sasl_password
        return faust.SASLCredentials(
            username=kafka.sasl_username,
            password=password.get_secret_value() if password is not None else None,
            mechanism=kafka.sasl_mechanism,
            ssl_context=context,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def _no_gap_acks() -> None:
    """Never let faust acknowledge offsets it did not deliver; remember where to re-read.

    faust drops records it fetched for a partition it no longer counts as active (its
    `Consumer.getmany`) after the fetcher has moved past them. The next record it delivers
    from that partition is then more than one offset after the last: faust takes the
    offsets between for a gap in the log (compaction, transaction markers) and counts them
    as acknowledged (`Consumer._add_gap`), so its next commit moves past records no stage
    ever saw, and a crash loses them for good. The SIGKILL loop lost 20 events this way
    (`tests/integration/test_kill_loop.py`). WBX's topics are neither compacted nor
    transactional, so a jump is always such a hole: it is logged, never acknowledged (the
    commit waits at the first record skipped) and noted in `WBX_HOLES` for the pipeline,
    which moves every partition back to its committed offset so the records are read now
    (at-least-once: the ones after the hole come again, and every effect is idempotent).
    """
    consumer = faust.transport.consumer.Consumer
    if getattr(consumer, "_wbx_no_gap_acks", False):
        return

    async def add_gap(self: Any, tp: Any, offset_from: int, offset_to: int) -> None:
        logger.warning(
            "%s[%d] jumped from offset %d to %d: re-reading the %d records between",
            tp.topic,
            tp.partition,
            offset_from - 1,
            offset_to,
            offset_to - offset_from,
        )
        WBX_HOLES[tp] = min(WBX_HOLES.get(tp, offset_from), offset_from)

    consumer._add_gap = add_gap  # type: ignore[method-assign]
    consumer._wbx_no_gap_acks = True  # type: ignore[attr-defined]


WBX_HOLES: dict[Any, int] = {}
"""Partitions faust skipped records of, and the first offset skipped (at most one entry per
assigned partition; the pipeline empties it every second)."""


def create_app(
    kafka: KafkaSettings, worker: WorkerSettings, instance_id: str | None = None
) -> faust.App:
    """The faust App configured for at-least-once processing on the given broker; with an
    `instance_id`, a static member of its consumer group."""
    _fetch_wait(kafka.fetch_max_wait_ms)
    _no_gap_acks()
    return faust.App(
        worker.group_id,
        broker=f"kafka://{kafka.bootstrap_servers}",
        broker_client_id=kafka.client_id,
        broker_credentials=broker_credentials(kafka),
        store="memory://",
        datadir=str(worker.data_dir),
        processing_guarantee="at_least_once",
        broker_rebalance_timeout=worker.rebalance_timeout,
        broker_session_timeout=max(10.0, worker.rebalance_timeout * 2),
        broker_heartbeat_interval=1.0,
        broker_commit_interval=1.0,
        producer_acks=-1,
        producer_linger=worker.producer_linger_ms / 1000,
        producer_max_request_size=max(worker.max_record_bytes * 2, 1_048_576),
        consumer_auto_offset_reset="earliest",
        consumer_group_instance_id=instance_id,
        topic_disable_leader=True,
        topic_replication_factor=1 if kafka.embedded else 3,
        table_standby_replicas=0 if kafka.embedded else 1,
        web_enabled=False,
    )


def declare_topics(app: faust.App, pcc_ids: list[str], agency_ids: list[str]) -> Topics:
    """Declare every topic once; names come from `schemas.topics` (the topic plan's names)."""

    def raw(name: str) -> Any:
        return app.topic(
            name,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            allow_empty=True,
        )

    return Topics(
        ingest=raw(names.INGEST),
        quarantine=raw(names.QUARANTINE),
        verified=raw(names.VERIFIED),
        shared=raw(names.SHARED),
        audit=raw(names.AUDIT),
        audit_checkpoints=raw(names.AUDIT_CHECKPOINTS),
        stats=raw(names.STATS),
        stats_fine=raw(names.STATS_FINE),
        alerts={pcc: raw(names.alerts_topic(pcc)) for pcc in pcc_ids},
        receipts={agency: raw(names.receipts_topic(agency)) for agency in agency_ids},
    )
