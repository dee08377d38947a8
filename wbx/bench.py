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
import re
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

from consumers.protect import load_policy, protect
from consumers.pseudonyms import Pseudonymiser
from consumers.settings import WorkerSettings
from gateway.auth import Role, TokenAuthority
from gateway.settings import GatewaySettings
from schemas.compose import compose_envelope
from schemas.envelope import Envelope, utc_iso
from schemas.keys import KeyRegistry, new_key_pair
from schemas.payloads import Apprehension, DeathOrMissingPerson
from schemas.settings import KafkaSettings
from schemas.signing import sign_wire
from schemas.tables import FineCell
from schemas.topics import INGEST, SHARED, STATS_FINE, alerts_topic
from schemas.verification import Verifier
from wbx.broker import EmbeddedBroker, free_port
from wbx.topics import apply_topics, reference_and_plan
from wbx.up import StartupError, metric_samples, wait_http

logger = logging.getLogger(__name__)
SECTIONS = ["BA-ME", "MK-RS", "HU-RS", "AL-ME", "BA-HR", "GR-MK"]
PCCS = ["pcc-plav", "pcc-trebinje"]
# pragma: allowlist nextline secret
BENCH_SECRET = "benchmark-secret-0123456789"  # noqa: S105 - a throwaway broker's
"""The pseudonym secret of the benchmark's workers and of the shared records it writes."""
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
    ingest_single: int = 3_000
    """Events POSTed one a request to the gateway (`ingest_concurrency` requests at a time)."""
    ingest_batches: int = 200
    """Requests of `ingest_batch_size` events each."""
    ingest_batch_size: int = 100
    ingest_concurrency: int = 8
    history: int = 1_000_000
    """Shared records already on `wbx.shared.v1` when a fresh hop-2 worker takes over."""
    profile: Path | None = None
    """A directory where py-spy samples each worker (`--profile`): collapsed stacks."""

    @classmethod
    def quick(cls) -> Plan:
        """Everything, small: a few hundred records, two seconds of offered load."""
        return cls(events=300, verifications=500, offered_per_s=50, latency_seconds=2.0,
                   probe_every=5, history=2_000, ingest_single=100, ingest_batches=10,
                   ingest_batch_size=20)  # fmt: skip


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
class Ingest:
    """Events the gateway accepted (202) a second, at a fixed number of requests in flight."""

    concurrency: int
    single_per_s: float
    single_events: int
    batch_per_s: float
    batch_size: int
    batch_events: int


@dataclass
class Takeover:
    """A fresh hop-2 worker after `history` shared records: how long until it works again."""

    history: int
    load_per_s: float
    """How fast the history went onto the topic (the bench's own producer)."""
    seconds: float
    """From starting the worker to the alert of a record written after the history."""
    rebuild_seconds: float
    """Of which the worker spent rebuilding its state (its `wbx_regional_rebuild_seconds`)."""
    peak_rss_mb: float
    state_entries: dict[str, int]


@dataclass(frozen=True)
class Target:
    """One figure against its target: `measured` must be `op` (">=" or "<=") `target`."""

    name: str
    op: str
    target: float
    measured: float
    unit: str

    @property
    def met(self) -> bool:
        """Whether the figure meets the target."""
        if self.op == ">=":
            return self.measured >= self.target
        return self.measured <= self.target

    @property
    def factor(self) -> float:
        """How far from the target, as a factor >= 1 when missed (1 or less when met)."""
        if self.measured <= 0 or self.target <= 0:
            return float("inf") if not self.met else 1.0
        ratio = self.target / self.measured
        return ratio if self.op == ">=" else 1 / ratio


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
    sse_latency: Latency | None
    ingest: Ingest | None
    takeover: Takeover | None
    worker_peak_rss_mb: list[float] = field(default_factory=list)
    worker_state: list[dict[str, Any]] = field(default_factory=list)
    """Each worker's hop and the entries of its bounded structures at the end of its run."""

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

    def targets(self) -> list[Target]:
        """The figures against the targets the platform is held to (docs/performance.md)."""
        out = [Target("one worker / ceiling", ">=", 0.5, self.ratio_to_ceiling, "x")]
        if self.two_over_one is not None:
            out.append(Target("two workers / one", ">=", 1.5, self.two_over_one, "x"))
        if self.latency is not None:
            name = f"p99 publish -> alert topic at {self.latency.offered_per_s}/s"
            out.append(Target(name, "<=", 250, self.latency.p99_ms, "ms"))
        if self.sse_latency is not None:
            name = f"p99 publish -> SSE client at {self.sse_latency.offered_per_s}/s"
            out.append(Target(name, "<=", 500, self.sse_latency.p99_ms, "ms"))
        peaks = [*self.worker_peak_rss_mb]
        if self.takeover is not None:
            peaks.append(self.takeover.peak_rss_mb)
            name = f"hop 2 take-over after {self.takeover.history} records"
            out.append(Target(name, "<=", 30, self.takeover.seconds, "s"))
        out.append(Target("worker peak RSS", "<=", 400, max(peaks, default=0.0), "MiB"))
        return out

    def to_json(self) -> str:
        """The report, with its ratios and targets, as JSON."""
        body = asdict(self) | {
            "ratio_to_ceiling": self.ratio_to_ceiling,
            "two_over_one": self.two_over_one,
            "targets": [asdict(t) | {"met": t.met, "factor": t.factor} for t in self.targets()],
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

    def apprehension(
        self, i: int, when: datetime, event_id: str | None = None
    ) -> tuple[bytes, bytes]:
        """One apprehension of one person at one of the sections."""
        section = SECTIONS[i % len(SECTIONS)]
        person = {"nationality": "AFG", "sex": "male", "document_number": f"P{i:07d}"}
        payload = Apprehension.model_validate(
            {"border_section": section, "direction": "entry", "group_size": 1, "persons": [person]}
        )
        return section.encode(), self._sign(payload, "RS-BP", event_id or str(uuid.uuid4()), when)

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


async def _latency(
    bootstrap: str, signer: _Signer, plan: Plan, gateway: RunningGateway | None = None
) -> tuple[Latency, Latency | None]:
    """Send at the offered rate, every `probe_every`-th a death; time each death's alert on
    the alerts topic and, with a gateway, its arrival at an SSE client of PCC Plav."""
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
    streamed: dict[str, float] = {}
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
        listener = None
        if gateway is not None:
            listener = asyncio.create_task(gateway.listen(PROBE_PCC, streamed))
            await asyncio.wait_for(gateway.listening.wait(), 30)
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
        while time.monotonic() < stop and not (
            set(sent) <= set(seen) and (listener is None or set(sent) <= set(streamed))
        ):
            await asyncio.sleep(0.05)
        follower.cancel()
        if listener is not None:
            listener.cancel()
    finally:
        await consumer.stop()
        await producer.stop()
    return (
        _summary(plan.offered_per_s, sent, seen),
        None if gateway is None else _summary(plan.offered_per_s, sent, streamed),
    )


def _summary(offered: int, sent: dict[str, float], arrived: dict[str, float]) -> Latency:
    """Percentiles of the probes' delays from being sent to arriving."""
    delays = sorted((arrived[p] - s) * 1000 for p, s in sent.items() if p in arrived)
    return Latency(
        offered_per_s=offered,
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


@dataclass
class RunningWorker:
    """A running `wbx worker` of the benchmark."""

    hop: str
    proc: subprocess.Popen[bytes]
    metrics_port: int

    def state(self, wait_s: float = 30) -> dict[str, float]:
        """Its state gauges (set every 5 s, so waits up to `wait_s` for the first)."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        found = _scrape(url)
        stop = time.monotonic() + wait_s
        while not any(k != "rebuild_seconds" for k in found) and time.monotonic() < stop:
            time.sleep(1)
            found = _scrape(url)
        return found


@contextmanager
def worker_processes(
    hops: list[str], env: dict[str, str], tmp: Path, profile: Path | None = None
) -> Iterator[list[RunningWorker]]:
    """A worker process for each entry of `hops` (`both`, `verify`, `aggregate`), each with
    its metrics on a free port; the same kind share a consumer group; stopped on exit.

    With `profile`, py-spy samples each worker from outside (a sampling profiler barely slows
    what it measures, unlike cProfile) and writes its collapsed stacks there when it ends.
    """
    procs = []
    workers = []
    samplers = []
    logs = []
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        for n, hop in enumerate(hops):
            logs.append((tmp / f"worker-{n}.log").open("wb"))
            port = free_port()
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "wbx", "worker"],
                    env={
                        **env,
                        "WBX_WORKER_DATA_DIR": str(tmp / f"worker-{n}"),
                        "WBX_WORKER_HOPS": hop,
                        "WBX_WORKER_METRICS_PORT": str(port),
                    },
                    stdout=subprocess.DEVNULL,
                    stderr=logs[-1],
                    start_new_session=True,
                )
            )
            workers.append(RunningWorker(hop, procs[-1], port))
            if profile is not None:
                out = profile / f"{tmp.name}-{n}-{hop}.txt"
                samplers.append(_sampler(procs[-1].pid, out))
        yield workers
    finally:
        for proc in procs:
            proc.terminate()
        for sampler in samplers:
            sampler.wait(timeout=60)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()


class RunningGateway:
    """A `wbx gateway` process on the benchmark's broker, and tokens for it."""

    def __init__(self, base: str, authority: TokenAuthority, pid: int = 0) -> None:
        self.base = base
        self.authority = authority
        self.pid = pid
        self.listening = asyncio.Event()

    def auth(
        self,
        role: Role,
        *,
        agency: str | None = None,
        pcc: str | None = None,
        analyst: str | None = None,
    ) -> dict[str, str]:
        """The Authorization header of a token for a role and binding."""
        token = self.authority.issue(role, agency=agency, pcc=pcc, analyst=analyst)
        return {"Authorization": f"Bearer {token}"}

    async def listen(self, pcc: str, arrived: dict[str, float]) -> None:
        """Follow the PCC's alert stream; note when each event id first arrives."""
        import httpx  # a dev dependency, like the benchmark

        headers = self.auth(Role.PCC_OPERATOR, pcc=pcc)
        async with (
            httpx.AsyncClient(timeout=None) as client,  # noqa: S113 - a stream: no timeout
            client.stream("GET", f"{self.base}/v1/alerts/stream", headers=headers) as response,
        ):
            response.raise_for_status()
            self.listening.set()
            async for line in response.aiter_lines():
                if not line.startswith("data: "):
                    continue
                now = time.perf_counter()
                for event in json.loads(line[6:]).get("events", []):
                    arrived.setdefault(event.get("event_id", ""), now)


def _alive(proc: subprocess.Popen[bytes], what: str) -> None:
    """Raise when `proc` has exited (what `wait_http` asks while it waits)."""
    if proc.poll() is not None:
        raise StartupError(f"{what} exited with {proc.returncode} before it was ready")


@contextmanager
def gateway_process(env: dict[str, str], tmp: Path) -> Iterator[RunningGateway]:
    """Start a gateway process and wait until it is ready; stop it on exit."""
    tmp.mkdir(parents=True, exist_ok=True)
    settings = GatewaySettings()
    key_file = tmp / "token-key.pem"
    authority = TokenAuthority.from_file(key_file, settings.issuer, settings.audience)
    port = free_port()
    with (tmp / "gateway.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wbx", "gateway"],
            env={
                **env,
                "WBX_GATEWAY_PORT": str(port),
                "WBX_GATEWAY_TOKEN_KEY_FILE": str(key_file),
                "WBX_GATEWAY_OUTBOX_DIR": str(tmp / "outbox"),
            },
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/readyz", 60, lambda: _alive(proc, "the gateway"), tmp)
            yield RunningGateway(base, authority, proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


async def _post_all(gateway: RunningGateway, bodies: list[bytes], concurrency: int) -> float:
    """POST every body to `/v1/events`, `concurrency` at a time; seconds it took. Every
    request must be accepted (202): a figure of refused requests would mean nothing."""
    import httpx

    headers = gateway.auth(Role.PUBLISHER, agency="RS-BP") | {"content-type": "application/json"}
    queue = list(reversed(bodies))

    async def client_loop(client: httpx.AsyncClient) -> None:
        while queue:
            response = await client.post("/v1/events", content=queue.pop(), headers=headers)
            if response.status_code != 202:
                raise RuntimeError(f"the gateway answered {response.status_code}: {response.text}")

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=gateway.base, limits=limits, timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
        return time.perf_counter() - started


@contextmanager
def _fresh_broker(tmp: Path) -> Iterator[tuple[EmbeddedBroker, _Signer]]:
    """A fresh embedded broker with the topic plan applied, and the bench's signer."""
    with EmbeddedBroker() as broker:
        settings = KafkaSettings(bootstrap=broker.bootstrap, idempotence=False)
        asyncio.run(apply_topics(settings, reference_and_plan(settings)[1]))
        yield broker, _Signer(tmp)


def _ingest(plan: Plan, tmp: Path) -> Ingest:
    """The gateway alone on a fresh broker: single and batch `POST /v1/events`."""
    with _fresh_broker(tmp) as (broker, signer):
        when = datetime.now(UTC) - timedelta(minutes=1)
        singles = [signer.apprehension(i, when)[1] for i in range(plan.ingest_single)]
        size = plan.ingest_batch_size
        batches = [
            b"[" + b",".join(signer.apprehension(i, when)[1] for _ in range(size)) + b"]"
            for i in range(plan.ingest_batches)
        ]
        with gateway_process(_worker_env(broker.bootstrap, signer), tmp / "gateway") as gateway:
            single_s = asyncio.run(_post_all(gateway, singles, plan.ingest_concurrency))
            batch_s = asyncio.run(_post_all(gateway, batches, plan.ingest_concurrency))
    return Ingest(
        concurrency=plan.ingest_concurrency,
        single_per_s=len(singles) / single_s,
        single_events=len(singles),
        batch_per_s=len(batches) * size / batch_s,
        batch_size=size,
        batch_events=len(batches) * size,
    )


def _sampler(pid: int, out: Path) -> subprocess.Popen[bytes]:
    """py-spy recording `pid` until it ends (from the registry: `pip install py-spy`)."""
    py_spy = Path(sys.executable).with_name("py-spy")
    if not py_spy.exists():
        raise RuntimeError("--profile needs py-spy next to this Python: pip install py-spy")
    return subprocess.Popen(  # noqa: S603 - the profiler installed with us, our arguments
        [
            str(py_spy),
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--rate",
            "250",
            "--nonblocking",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _shared_templates(signer: _Signer, when: datetime) -> tuple[list[str], str, str]:
    """Shared records as Protect writes them: an apprehension per section, and a death at
    AL-ME (alerts PCC Plav), as JSON with the event id to replace per record."""
    settings = WorkerSettings()
    policy = load_policy(settings.policy_file)
    pseudonymiser = Pseudonymiser(BENCH_SECRET.encode(), "bench")

    def shared(key_value: tuple[bytes, bytes]) -> str:
        envelope = Envelope.model_validate_json(key_value[1])
        protected = protect(envelope, "0" * 64, policy, pseudonymiser, now=when)
        assert protected is not None  # the bench's events are well within their retention
        return protected.shared.model_dump_json()

    ids = [str(uuid.uuid4()) for _ in SECTIONS]
    apprehensions = [shared(signer.apprehension(i, when, ids[i])) for i in range(len(SECTIONS))]
    probe_id = str(uuid.uuid4())
    return apprehensions, probe_id, shared(signer.death(probe_id, when))


async def _load_shared(
    bootstrap: str, templates: list[str], count: int, *, distinct: bool = True
) -> float:
    """Write `count` shared records cycling over the templates; records/s.

    Unless not `distinct` (then as they are), record i is its own event about its own
    person, stamped 10 ms after record i-1: what a history of many agencies' reports is.
    """
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks=1, linger_ms=20, max_batch_size=512 * 1024
    )
    await producer.start()
    started = time.perf_counter()
    try:
        first = datetime.fromisoformat(json.loads(templates[0])["time"]) - timedelta(
            milliseconds=10 * count
        )
        for i in range(count):
            value = templates[i % len(templates)]
            if distinct:
                value = _distinct(value, i, first + timedelta(milliseconds=10 * i))
            await producer.send(SHARED, value=value.encode(), key=b"bench")
        await producer.flush()
    finally:
        await producer.stop()
    return count / (time.perf_counter() - started)


_PSEUDONYM = re.compile(r"psn:bench:[0-9a-f]{32}")


def _distinct(template: str, i: int, moment: datetime) -> str:
    """The template as event i: its own event id, person pseudonym and time."""
    body = json.loads(template)
    value = template.replace(body["provenance"]["event_id"], f"00000000-0000-4000-8000-{i:012d}")
    value = value.replace(f'"time":"{body["time"]}"', f'"time":"{utc_iso(moment)}"')
    return _PSEUDONYM.sub(f"psn:bench:{i:032x}", value)


async def _commit_group(bootstrap: str, group: str, topic: str, offset: int) -> None:
    """Commit `offset` for the group: as if a worker had processed everything before it."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.commit({tp: offset})
    finally:
        await consumer.stop()


async def _await_alert(bootstrap: str, event_id: str, deadline_s: float) -> float:
    """Wait for an alert naming `event_id` on PCC Plav's topic; when it came (perf_counter)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, auto_offset_reset="earliest", fetch_max_wait_ms=10
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(alerts_topic(PROBE_PCC), 0)])
        stop = time.monotonic() + deadline_s
        while time.monotonic() < stop:
            batch = await consumer.getmany(timeout_ms=50)
            for messages in batch.values():
                for message in messages:
                    alert = json.loads(message.value or b"{}")
                    if any(e.get("event_id") == event_id for e in alert.get("events", [])):
                        return time.perf_counter()
    finally:
        await consumer.stop()
    raise RuntimeError(f"no alert for the probe within {deadline_s:.0f} s")


def _scrape(url: str) -> dict[str, float]:
    """A worker's `wbx_state_entries` and `wbx_regional_rebuild_seconds` samples."""
    found: dict[str, float] = {}
    for sample in metric_samples(url, timeout=5) or []:
        if sample.name == "wbx_state_entries":
            found[sample.labels["structure"]] = sample.value
        elif sample.name == "wbx_regional_rebuild_seconds":
            found["rebuild_seconds"] = sample.value
    return found


def _takeover(plan: Plan, tmp: Path) -> Takeover:
    """A fresh hop-2 worker after `plan.history` shared records: time to work again."""
    with _fresh_broker(tmp) as (broker, signer):
        when = datetime.now(UTC) - timedelta(minutes=5)
        templates, probe_id, probe = _shared_templates(signer, when)
        load_per_s = asyncio.run(_load_shared(broker.bootstrap, templates, plan.history))
        # The group has processed the history; a new record follows it.
        asyncio.run(_commit_group(broker.bootstrap, "wbx-aggregate", SHARED, plan.history))
        asyncio.run(_load_shared(broker.bootstrap, [probe], 1, distinct=False))
        env = _worker_env(broker.bootstrap, signer)
        started = time.perf_counter()
        with worker_processes(["aggregate"], env, tmp / "takeover", plan.profile) as (worker,):
            seconds = asyncio.run(_await_alert(broker.bootstrap, probe_id, 1800)) - started
            found = worker.state()
            rss = peak_rss_mb(worker.proc.pid)
    rebuild = found.pop("rebuild_seconds", 0.0)
    return Takeover(
        history=plan.history,
        load_per_s=load_per_s,
        seconds=seconds,
        rebuild_seconds=rebuild,
        peak_rss_mb=rss,
        state_entries=_entries("aggregate", found)["entries"],
    )


def _entries(hop: str, found: dict[str, float]) -> dict[str, Any]:
    """A worker's hop and the entries of its bounded structures (from its gauges)."""
    entries = {k: int(v) for k, v in sorted(found.items()) if k != "rebuild_seconds"}
    return {"hop": hop, "entries": entries}


def _worker_env(bootstrap: str, signer: _Signer) -> dict[str, str]:
    """A worker's environment on the benchmark's broker."""
    return {
        **os.environ,
        "WBX_KAFKA_BOOTSTRAP": bootstrap,
        "WBX_KAFKA_IDEMPOTENCE": "false",
        "WBX_KEY_REGISTRY": str(signer.registry),
        "WBX_WORKER_METRICS_PORT": "0",
        "WBX_WORKER_REBALANCE_TIMEOUT": "1",
        "WBX_WORKER_PSEUDONYM_SECRET": BENCH_SECRET,
        "WBX_WORKER_LOG_LEVEL": "warning",
    }


def _broker_run(
    plan: Plan, hops: list[str], tmp: Path, *, ceiling: bool, latency: bool
) -> dict[str, Any]:
    """One fresh broker: load the records, measure what is asked, stop everything."""
    out: dict[str, Any] = {}
    with _fresh_broker(tmp) as (broker, signer):
        when = datetime.now(UTC) - timedelta(minutes=5)
        records = [signer.apprehension(i, when) for i in range(plan.events)]
        asyncio.run(_load(broker.bootstrap, records))
        if ceiling:
            out["ceiling"] = asyncio.run(_ceiling(broker.bootstrap, plan.events, signer.registry))
        env = _worker_env(broker.bootstrap, signer)
        with worker_processes(hops, env, tmp / "-".join(hops), plan.profile) as workers:
            out["throughput"] = asyncio.run(_throughput(broker.bootstrap, plan.events))
            if latency:
                with gateway_process(env, tmp / "gateway") as gateway:
                    out["latency"], out["sse"] = asyncio.run(
                        _latency(broker.bootstrap, signer, plan, gateway)
                    )
            out["rss"] = [peak_rss_mb(w.proc.pid) for w in workers]
            out["state"] = [_entries(w.hop, w.state()) for w in workers]
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
        ingest = _ingest(plan, tmp / "ingest") if plan.ingest_single else None
        takeover = _takeover(plan, tmp / "takeover") if plan.history else None
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
        sse_latency=one["sse"],
        ingest=ingest,
        takeover=takeover,
        worker_peak_rss_mb=[*one["rss"], *split["rss"], *([] if two is None else two["rss"])],
        worker_state=[*one["state"], *split["state"], *([] if two is None else two["state"])],
    )
