"""Benchmark of the pipeline on the embedded broker: ceilings, throughput, latency, memory.

Every figure comes from one run, on one fresh embedded broker, so they compare:

* **ceilings**: Ed25519 verifications a second on one core with the library in use, and a
  plain aiokafka loop that consumes the ingest records, parses, canonicalises and verifies
  each with the same `Verifier` and forwards it (the verify-only ceiling);
* **throughput** of the whole pipeline (verify, protect, aggregate, route) with one worker
  running both hops, with one process per hop (`WBX_WORKER_HOPS`), and with two workers in
  one consumer group: from hop 1's first output to the last record's effect on the
  statistics (its count in the fine cells of `wbx.stats.fine.v1`, which hop 2 publishes
  after it applied the record);
* **latency** at a fixed offered load: deaths sent among apprehensions, each raising an
  alert at PCC Plav; from the publisher's send to the alert being readable on the PCC's
  alerts topic (p50/p95/p99/max);
* **memory**: each worker's peak resident set (Linux `VmHWM`).

It prints nothing and asserts nothing: `wbx bench` prints the report, `--json` writes it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from schemas.compose import compose_envelope
from schemas.keys import KeyRegistry, new_key_pair
from schemas.payloads import Apprehension, DeathOrMissingPerson
from schemas.settings import KafkaSettings
from schemas.signing import sign_wire
from schemas.tables import FineCell
from schemas.topics import INGEST, SHARED, STATS_FINE, alerts_topic, load_topic_plan
from schemas.verification import Verifier
from wbx.broker import EmbeddedBroker
from wbx.topics import apply_topics

logger = logging.getLogger(__name__)
SECTIONS = ["BA-ME", "MK-RS", "HU-RS", "AL-ME", "BA-HR", "GR-MK"]
PCCS = ["pcc-plav", "pcc-trebinje"]
PROBE_PCC = "pcc-plav"  # deaths at AL-ME alert PCC Plav (infra/reference.toml)


@dataclass(frozen=True)
class Plan:
    """How much to run: `quick()` for correctness in the test suite, the defaults for figures."""

    events: int = 20_000
    verifications: int = 20_000
    offered_per_s: int = 500
    latency_seconds: float = 20.0
    probe_every: int = 10
    two_workers: bool = True
    profile: Path | None = None
    """A directory where each worker writes a cProfile of its run (`--profile`)."""

    @classmethod
    def quick(cls) -> Plan:
        """Everything, small: a few hundred records, two seconds of offered load."""
        return cls(events=300, verifications=500, offered_per_s=50, latency_seconds=2.0,
                   probe_every=5)  # fmt: skip


@dataclass
class Latency:
    """Publish-to-alert-topic latency of the probes, in milliseconds."""

    offered_per_s: int
    probes: int
    received: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


@dataclass
class BenchReport:
    """Figures of one run."""

    started_at: str
    machine: dict[str, Any]
    events: int
    ed25519_verifications_per_s: float
    ceiling_per_s: float
    one_worker_per_s: float
    two_workers_per_s: float | None
    split_per_s: float
    latency: Latency | None
    split_latency: Latency | None
    worker_peak_rss_mb: list[float] = field(default_factory=list)

    @property
    def ratio_to_ceiling(self) -> float:
        """One worker's whole pipeline over the verify-only ceiling."""
        return self.one_worker_per_s / self.ceiling_per_s

    @property
    def two_over_one(self) -> float | None:
        """Two workers over one."""
        if self.two_workers_per_s is None:
            return None
        return self.two_workers_per_s / self.one_worker_per_s

    def to_json(self) -> str:
        """The report, with its ratios, as JSON."""
        body = asdict(self) | {
            "ratio_to_ceiling": self.ratio_to_ceiling,
            "two_over_one": self.two_over_one,
        }
        return json.dumps(body, indent=2)


class _Signer:
    """Signs benchmark envelopes as RS-BP (apprehensions) and ME-BP (deaths)."""

    def __init__(self, tmp: Path) -> None:
        valid_from = datetime.now(UTC) - timedelta(days=1)
        self.keys = {agency: new_key_pair(agency, valid_from=valid_from)
                     for agency in ("RS-BP", "ME-BP")}  # fmt: skip
        self.registry = tmp / "keys.json"
        KeyRegistry([entry for _, entry in self.keys.values()]).save(self.registry)

    def apprehension(self, i: int, when: datetime) -> tuple[bytes, bytes]:
        """One apprehension of one person at one of the sections."""
        section = SECTIONS[i % len(SECTIONS)]
        person = {"nationality": "AFG", "sex": "male", "document_number": f"P{i:07d}"}
        payload = Apprehension.model_validate(
            {"border_section": section, "direction": "entry", "group_size": 1, "persons": [person]}
        )
        return section.encode(), self._sign(payload, "RS-BP", str(uuid.uuid4()), when)

    def death(self, event_id: str, when: datetime) -> tuple[bytes, bytes]:
        """A death at AL-ME: an alert at PCC Plav."""
        payload = DeathOrMissingPerson.model_validate({"border_section": "AL-ME", "count": 1})
        return b"AL-ME", self._sign(payload, "ME-BP", event_id, when)

    def _sign(self, payload: Any, agency: str, event_id: str, when: datetime) -> bytes:
        private, entry = self.keys[agency]
        body = compose_envelope(payload, agency, event_id=event_id, time=when)
        return json.dumps(sign_wire(body.to_wire(), private, entry.kid)).encode()


def ed25519_per_s(count: int) -> float:
    """Ed25519 verifications a second on one core with `cryptography`."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    message = os.urandom(600)  # about the canonical bytes of an event
    signature = key.sign(message)
    started = time.perf_counter()
    for _ in range(count):
        public.verify(signature, message)
    return count / (time.perf_counter() - started)


async def _load(bootstrap: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(INGEST, value=v, key=k) for k, v in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _ceiling(bootstrap: str, count: int, registry: Path) -> float:
    """The verify-only loop: consume, parse, canonicalise, verify, forward."""
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


class _FineFollower:
    """Follows `wbx.stats.fine.v1`: how many events the statistics have counted, and when."""

    def __init__(self, bootstrap: str) -> None:
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
        self.latest: dict[str, int] = {}
        self.first_shared_at: float | None = None

    async def __aenter__(self) -> _FineFollower:
        await self.consumer.start()
        self.consumer.assign([TopicPartition(STATS_FINE, 0), TopicPartition(SHARED, 0)])
        await self.consumer.seek_to_beginning()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()

    async def counted(self) -> tuple[int, float]:
        """Events counted so far (the latest value of each events fine cell, summed), and
        when the worker published the last change (its record timestamp, in seconds)."""
        batch = await self.consumer.getmany(timeout_ms=100)
        last = 0.0
        for tp, messages in batch.items():
            for message in messages:
                if tp.topic == SHARED:
                    if self.first_shared_at is None:
                        self.first_shared_at = message.timestamp / 1000
                    continue
                cell = FineCell.model_validate_json(message.value or b"{}")
                if cell.measure.value == "events":
                    self.latest[cell.key] = cell.records
                    last = max(last, message.timestamp / 1000)
        return sum(self.latest.values()), last


async def _throughput(bootstrap: str, target: int, deadline_s: float = 900) -> float:
    """Events a second from hop 1's first output to the statistics counting `target` events,
    both by the timestamps the worker gave its records (no polling in the figure)."""
    async with _FineFollower(bootstrap) as fine:
        stop = time.monotonic() + deadline_s
        while time.monotonic() < stop:
            counted, at = await fine.counted()
            logger.debug("counted %d of %d", counted, target)
            if counted >= target and fine.first_shared_at is not None:
                elapsed = at - fine.first_shared_at
                return target / elapsed if elapsed > 0 else float("inf")
    raise RuntimeError(f"the workers did not count {target} events within {deadline_s:.0f} s")


async def _latency(bootstrap: str, signer: _Signer, plan: Plan) -> Latency:
    """Send at the offered rate, every `probe_every`-th a death; time each death's alert."""
    total = int(plan.offered_per_s * plan.latency_seconds)
    when = datetime.now(UTC) - timedelta(minutes=1)
    records: list[tuple[str | None, tuple[bytes, bytes]]] = []
    for i in range(total):
        if i % plan.probe_every == 0:
            probe = str(uuid.uuid4())
            records.append((probe, signer.death(probe, when)))
        else:
            records.append((None, signer.apprehension(i, when)))
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    # The measuring consumer must not add its own fetch wait to the figures.
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, auto_offset_reset="latest", fetch_max_wait_ms=10
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    await consumer.start()
    await producer.start()
    try:
        tp = TopicPartition(alerts_topic(PROBE_PCC), 0)
        consumer.assign([tp])
        await consumer.seek_to_end(tp)
        await consumer.position(tp)

        async def follow() -> None:
            while True:
                batch = await consumer.getmany(timeout_ms=20)
                now = time.perf_counter()
                for messages in batch.values():
                    for message in messages:
                        alert = json.loads(message.value or b"{}")
                        for event in alert.get("events", []):
                            seen.setdefault(event.get("event_id", ""), now)

        follower = asyncio.create_task(follow())
        interval = 1 / plan.offered_per_s
        started = time.perf_counter()
        for n, (tag, (key, value)) in enumerate(records):
            pause = started + n * interval - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
            if tag is not None:
                sent[tag] = time.perf_counter()
            await producer.send(INGEST, value=value, key=key)
        await producer.flush()
        stop = time.monotonic() + 30
        while time.monotonic() < stop and not set(sent) <= set(seen):
            await asyncio.sleep(0.05)
        follower.cancel()
    finally:
        await consumer.stop()
        await producer.stop()
    delays = sorted((seen[p] - s) * 1000 for p, s in sent.items() if p in seen)
    return Latency(
        offered_per_s=plan.offered_per_s,
        probes=len(sent),
        received=len(delays),
        p50_ms=_percentile(delays, 0.5),
        p95_ms=_percentile(delays, 0.95),
        p99_ms=_percentile(delays, 0.99),
        max_ms=delays[-1] if delays else 0.0,
    )


def _percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile of sorted values (0 when there are none)."""
    if not values:
        return 0.0
    return values[min(len(values) - 1, max(0, round(q * len(values) + 0.5) - 1))]


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident set in MiB (Linux; 0 elsewhere)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def _workers(
    hops: list[str], env: dict[str, str], tmp: Path, profile: Path | None = None
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """A worker process for each entry of `hops` (`both`, `verify`, `aggregate`); the same
    kind share a consumer group; stopped on exit."""
    procs = []
    logs = []
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        for n, hop in enumerate(hops):
            # With a profile directory, each worker writes a cProfile of its run there.
            wrap = ["-m", "cProfile", "-o", str(profile / f"worker-{n}.prof")] if profile else []
            logs.append((tmp / f"worker-{n}.log").open("wb"))
            procs.append(
                subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                    [sys.executable, *wrap, "-m", "wbx", "worker"],
                    env={
                        **env,
                        "WBX_WORKER_DATA_DIR": str(tmp / f"worker-{n}"),
                        "WBX_WORKER_HOPS": hop,
                    },
                    stdout=subprocess.DEVNULL,
                    stderr=logs[-1],
                    start_new_session=True,
                )
            )
        yield procs
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()


def _broker_run(
    plan: Plan, hops: list[str], tmp: Path, *, ceiling: bool, latency: bool
) -> dict[str, Any]:
    """One fresh broker: load the records, measure what is asked, stop everything."""
    out: dict[str, Any] = {}
    with EmbeddedBroker() as broker:
        settings = KafkaSettings(bootstrap=broker.bootstrap, idempotence=False)
        asyncio.run(apply_topics(settings, load_topic_plan(settings.topics_file, PCCS)))
        signer = _Signer(tmp)
        when = datetime.now(UTC) - timedelta(minutes=5)
        records = [signer.apprehension(i, when) for i in range(plan.events)]
        asyncio.run(_load(broker.bootstrap, records))
        if ceiling:
            out["ceiling"] = asyncio.run(_ceiling(broker.bootstrap, plan.events, signer.registry))
        env = {
            **os.environ,
            "WBX_KAFKA_BOOTSTRAP": broker.bootstrap,
            "WBX_KAFKA_IDEMPOTENCE": "false",
            "WBX_KEY_REGISTRY": str(signer.registry),
            "WBX_WORKER_METRICS_PORT": "0",
            "WBX_WORKER_REBALANCE_TIMEOUT": "1",
            "WBX_WORKER_PSEUDONYM_SECRET": "benchmark-secret-0123456789",
            "WBX_WORKER_LOG_LEVEL": "warning",
        }
        with _workers(hops, env, tmp / "-".join(hops), plan.profile) as procs:
            out["throughput"] = asyncio.run(_throughput(broker.bootstrap, plan.events))
            if latency:
                out["latency"] = asyncio.run(_latency(broker.bootstrap, signer, plan))
            out["rss"] = [peak_rss_mb(p.pid) for p in procs]
    return out


def run_benchmark(plan: Plan) -> BenchReport:
    """Run every measurement on fresh embedded brokers; prints nothing."""
    started = datetime.now(UTC).isoformat(timespec="seconds")
    verifications = ed25519_per_s(plan.verifications)
    with tempfile.TemporaryDirectory(prefix="wbx-bench-") as tmp_name:
        tmp = Path(tmp_name)
        one = _broker_run(plan, ["both"], tmp / "one", ceiling=True, latency=True)
        split = _broker_run(plan, ["verify", "aggregate"], tmp / "split", ceiling=False,
                            latency=True)  # fmt: skip
        two = _broker_run(plan, ["both", "both"], tmp / "two", ceiling=False, latency=False) if (
            plan.two_workers) else None  # fmt: skip
    return BenchReport(
        started_at=started,
        machine={
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        events=plan.events,
        ed25519_verifications_per_s=verifications,
        ceiling_per_s=one["ceiling"],
        one_worker_per_s=one["throughput"],
        two_workers_per_s=None if two is None else two["throughput"],
        split_per_s=split["throughput"],
        latency=one["latency"],
        split_latency=split["latency"],
        worker_peak_rss_mb=[*one["rss"], *split["rss"], *([] if two is None else two["rss"])],
    )
