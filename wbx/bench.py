"""Throughput benchmark of the pipeline on the embedded broker, against a same-run baseline.

Baseline: a plain aiokafka loop that consumes the ingest topic, verifies each record with
the same Verifier and forwards it (what the design note calls the floor of framework cost).
Measured: the real worker (faust, both hops: verify+protect, aggregate+route), from the first
record to the last record on `wbx.shared.v1`. Both read the same pre-loaded records.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from schemas.compose import compose_envelope
from schemas.keys import KeyRegistry, new_key_pair
from schemas.payloads import Apprehension
from schemas.settings import KafkaSettings
from schemas.signing import sign_wire
from schemas.topics import INGEST, SHARED, load_topic_plan
from schemas.verification import Verifier
from wbx.broker import EmbeddedBroker
from wbx.topics import apply_topics

SECTIONS = ["BA-ME", "MK-RS", "HU-RS", "AL-ME", "BA-HR", "GR-MK"]


@dataclass(frozen=True)
class BenchResult:
    """Figures of one benchmark run."""

    events: int
    baseline_per_s: float
    pipeline_per_s: float


def signed_records(count: int, tmp: Path) -> tuple[list[tuple[bytes, bytes]], Path]:
    """`count` signed apprehension records and the registry that verifies them."""
    private, entry = new_key_pair("RS-BP", valid_from=datetime.now(UTC) - timedelta(days=1))
    registry = tmp / "keys.json"
    KeyRegistry([entry]).save(registry)
    when = datetime.now(UTC) - timedelta(minutes=5)
    records = []
    for i in range(count):
        section = SECTIONS[i % len(SECTIONS)]
        person = {"nationality": "AFG", "sex": "male", "document_number": f"P{i:07d}"}
        payload = Apprehension.model_validate(
            {"border_section": section, "direction": "entry", "group_size": 1, "persons": [person]}
        )
        body = compose_envelope(payload, "RS-BP", event_id=str(uuid.uuid4()), time=when)
        value = json.dumps(sign_wire(body.to_wire(), private, entry.kid)).encode()
        records.append((section.encode(), value))
    return records, registry


async def _load(bootstrap: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(INGEST, value=v, key=k) for k, v in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _baseline(bootstrap: str, count: int, registry: Path) -> float:
    verifier = Verifier(KeyRegistry.load(registry))
    consumer = AIOKafkaConsumer(
        INGEST,
        bootstrap_servers=bootstrap,
        group_id=f"bench-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        enable_auto_commit=True,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await consumer.start()
    await producer.start()
    seen = 0
    started = 0.0
    try:
        while seen < count:
            batch = await consumer.getmany(timeout_ms=500)
            for messages in batch.values():
                for message in messages:
                    if not started:
                        started = time.perf_counter()
                    if verifier.verify_bytes(message.value or b"").ok:
                        await producer.send("wbx.verified.v1", value=message.value, key=message.key)
                    seen += 1
        await producer.flush()
        return count / (time.perf_counter() - started)
    finally:
        await consumer.stop()
        await producer.stop()


async def _shared_count(bootstrap: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tp = TopicPartition(SHARED, 0)
        return int((await consumer.end_offsets([tp]))[tp])
    finally:
        await consumer.stop()


def run_benchmark(count: int) -> BenchResult:
    """Run baseline and pipeline on a fresh embedded broker; prints nothing."""
    with tempfile.TemporaryDirectory(prefix="wbx-bench-") as tmp_name, EmbeddedBroker() as broker:
        tmp = Path(tmp_name)
        settings = KafkaSettings(bootstrap=broker.bootstrap, idempotence=False)
        asyncio.run(
            apply_topics(
                settings, load_topic_plan(settings.topics_file, ["pcc-plav", "pcc-trebinje"])
            )
        )
        records, registry = signed_records(count, tmp)
        asyncio.run(_load(broker.bootstrap, records))
        baseline = asyncio.run(_baseline(broker.bootstrap, count, registry))
        env = {
            **os.environ,
            "WBX_KAFKA_BOOTSTRAP": broker.bootstrap,
            "WBX_KAFKA_IDEMPOTENCE": "false",
            "WBX_KEY_REGISTRY": str(registry),
            "WBX_WORKER_METRICS_PORT": "0",
            "WBX_WORKER_REBALANCE_TIMEOUT": "1",
            "WBX_WORKER_DATA_DIR": str(tmp / "worker"),
            "WBX_WORKER_PSEUDONYM_SECRET": "benchmark-secret-0123456789",
            "WBX_WORKER_LOG_LEVEL": "warning",
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "wbx", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            first = last = None
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                done = asyncio.run(_shared_count(broker.bootstrap))
                now = time.perf_counter()
                if done and first is None:
                    first = (now, done)
                if done >= count:
                    last = now
                    break
                time.sleep(0.05)
            if first is None or last is None or last <= first[0]:
                raise RuntimeError("the worker did not process the benchmark records in time")
            pipeline = (count - first[1]) / (last - first[0])
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    return BenchResult(count, baseline, pipeline)
