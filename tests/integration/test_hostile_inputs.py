"""Hostile inputs against a real worker and gateway: every input accounted for, nothing crashes.

Straight to `wbx.ingest.v1` and through `POST /v1/events`, from a seeded generator
(`tests/hostile.py`; `--hostile-count N` for longer runs). The worker's own metrics must
account for every record on the ingest topic (verified + quarantined + replays), each
quarantined with the reason its class calls for; no agent restarts; the gateway never answers
5xx nor drops the connection; and a valid event sent afterwards still flows through.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from gateway.auth import Role
from schemas import strict_json
from schemas.topics import INGEST, QUARANTINE, SHARED, STATS, STATS_FINE, alerts_topic
from tests.factories import envelope, make_alert, record, signed
from tests.figures import record_figures
from tests.hostile import REPLAY, Hostile, HostileGenerator, HostileKeys
from tests.hostile import VERIFIED as EXPECT_VERIFIED
from tests.integration.gateway_server import LiveGateway, start_gateway
from tests.integration.kafka_io import (
    WorkerProcess,
    produce,
    read_topic,
    wait_until,
)
from tests.integration.pipeline_stack import Stack, start_stack, stop_stack
from wbx.broker import free_port

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

SEED = 20261123
MAX_BODY = 1_048_576


@dataclass
class Hostiles:
    """The stack, the keys its registry trusts, and where the worker's metrics are."""

    stack: Stack
    keys: HostileKeys
    metrics_port: int

    def metrics(self) -> dict[str, dict[str, float]]:
        """`wbx_*` counters of the worker by name, then by their first label's value."""
        text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text
        found: dict[str, dict[str, float]] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name.startswith("wbx_") and sample.name.endswith("_total"):
                    label = next(iter(sample.labels.values()), "")
                    found.setdefault(sample.name, {})[label] = sample.value
        return found

    def outcomes(self) -> Counter[str]:
        """Ingest records by outcome, as the worker counted them."""
        return Counter(self.metrics().get("wbx_verify_outcomes_total", {}))

    def crashes(self) -> float:
        """Agent restarts, all agents together."""
        return sum(self.metrics().get("wbx_agent_crashes_total", {}).values())


@pytest.fixture(scope="module")
def hostiles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostiles]:
    tmp: Path = tmp_path_factory.mktemp("hostile")
    stack = start_stack(tmp)
    keys = HostileKeys.create(datetime.now(UTC))
    keys.registry().save(tmp / "keys.json")
    port = free_port()
    stack.worker = WorkerProcess(
        {**stack.env(), "WBX_WORKER_METRICS_PORT": str(port)}, tmp / "worker.log"
    )
    stack.worker.start()
    yield Hostiles(stack, keys, port)
    stop_stack(stack)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(hostiles: Hostiles) -> AsyncIterator[LiveGateway]:
    live = await start_gateway(hostiles.stack, hostiles.stack.tmp)
    yield live
    await live.stop()


async def ingest_total(bootstrap: str) -> int:
    """How many records the ingest topic holds.

    Counted by reading: the embedded broker's ListOffsets answers the base offset of the last
    batch + 1 rather than the end, so end offsets undercount batched topics.
    """
    return len(await read_topic(bootstrap, INGEST))


async def _settled(hostiles: Hostiles) -> Counter[str]:
    """Wait until the worker has an outcome for every record on the ingest topic (the
    patience grows with the records: about 40 hostile records a second here, some of them
    megabytes)."""
    bootstrap = hostiles.stack.bootstrap
    timeout = 240 + await ingest_total(bootstrap) / 25

    async def check() -> tuple[Counter[str]] | None:
        worker = hostiles.stack.worker
        assert worker and worker.process and worker.process.poll() is None, worker and worker.log()
        total = await ingest_total(bootstrap)
        try:
            outcomes = await asyncio.to_thread(hostiles.outcomes)
        except httpx.HTTPError:
            return None
        return (outcomes,) if sum(outcomes.values()) >= total else None

    (outcomes,) = await wait_until(check, timeout, "an outcome for every ingest record")
    return outcomes


async def test_every_hostile_record_on_the_ingest_topic_gets_exactly_one_outcome(
    hostiles: Hostiles, request: pytest.FixtureRequest
):
    count: int = request.config.getoption("--hostile-count")
    # Judged when sent, as the gateway tests are: a long run starts minutes after the keys.
    items = list(HostileGenerator(SEED, hostiles.keys, now=datetime.now(UTC)).generate(count))
    positions = await produce(
        hostiles.stack.bootstrap, INGEST, [(item.key, item.value) for item in items]
    )
    outcomes = await _settled(hostiles)

    total = await ingest_total(hostiles.stack.bootstrap)
    assert total == count
    assert sum(outcomes.values()) == total, outcomes
    expected = Counter(item.expect for item in items)

    by_position: dict[tuple[int, int], dict[str, Any]] = {}
    for quarantine_record in await read_topic(hostiles.stack.bootstrap, QUARANTINE):
        found = json.loads(quarantine_record.value)
        if found["topic"] == INGEST:
            by_position[(found["partition"], found["offset"])] = found
    verified = set(await hostiles.stack.read_verified())
    wrong = []
    for item, position in zip(items, positions, strict=True):
        found = by_position.get(position)
        if item.expect == EXPECT_VERIFIED:
            ok = item.value in verified and found is None
        elif item.expect == REPLAY:
            ok = found is None
        else:
            ok = found is not None and found["reason"] == item.expect
        if not ok:
            wrong.append((item.index, item.kind, item.expect, found and found["reason"]))
    assert not wrong, f"seed {SEED}: {wrong[:10]}"
    # Then the worker's own counts agree (each record counted once, by its outcome).
    assert outcomes["verified"] == expected[EXPECT_VERIFIED], (outcomes, expected)
    assert outcomes["replay"] == expected[REPLAY], (outcomes, expected)
    assert outcomes["quarantined"] == count - expected[EXPECT_VERIFIED] - expected[REPLAY]
    # Retention-expired records keep no personal data, only the digest and the ids.
    for item, position in zip(items, positions, strict=True):
        if item.expect == "retention_expired":
            assert by_position[position]["original_b64"] is None
            assert by_position[position]["event_id"] == item.event_id
    assert hostiles.crashes() == 0, hostiles.stack.worker and hostiles.stack.worker.log()
    record_figures(
        request,
        "hostile records (wbx.ingest.v1)",
        inputs=count,
        crashes=int(hostiles.crashes()),
        lost=total - sum(outcomes.values()),
        classes=_classes(items, "ingest topic"),
    )


def _parses(value: bytes, max_depth: int) -> bool:
    try:
        strict_json.loads(value, max_depth=max_depth)
    except strict_json.NotIJsonError:
        return False
    return True


def _classes(items: list[Hostile], path: str) -> dict[str, dict[str, int]]:
    """How many inputs of each class were tried on `path` (for the figures table)."""
    return {kind: {path: n} for kind, n in Counter(item.kind for item in items).items()}


def _gateway_expectation(item: Hostile) -> tuple[int, str | None]:
    """The status (and, for 202 and 422, the per-event reason) the gateway must answer."""
    if len(item.value) > MAX_BODY:
        return 413, None
    try:
        parsed: Any = strict_json.loads(item.value, max_depth=strict_json.MAX_DEPTH + 1)
    except strict_json.NotIJsonError:
        return 400, None
    if parsed == []:
        return 400, None
    if item.expect in (EXPECT_VERIFIED, REPLAY):
        return 202, "ok"
    return 422, item.expect  # nothing accepted: 4xx, with the event's own verdict


async def test_the_gateway_answers_every_hostile_body_with_4xx_or_a_per_event_verdict(
    hostiles: Hostiles, gw: LiveGateway, request: pytest.FixtureRequest
):
    await _settled(hostiles)
    before = await asyncio.to_thread(hostiles.outcomes)
    count = max(200, request.config.getoption("--hostile-count") * 2 // 5)
    # Judged when sent: minutes may have passed since the keys were made.
    generator = HostileGenerator(SEED + 1, hostiles.keys, now=datetime.now(UTC))
    items = list(generator.generate(count))
    tokens = {agency: gw.token(Role.PUBLISHER, agency=agency) for agency in ("RS-BP", "BA-BP")}
    wrong = []
    statuses: Counter[int] = Counter()
    async with httpx.AsyncClient(base_url=gw.base, timeout=60) as client:
        for item in items:
            response = await client.post(
                "/v1/events",
                content=item.value,
                headers={
                    "Authorization": f"Bearer {tokens[item.agency]}",
                    "Content-Type": "application/json",
                },
            )
            statuses[response.status_code] += 1
            assert response.status_code < 500, (item.index, item.kind, response.text[:500])
            assert "close" not in response.headers.get("connection", "").lower(), item.kind
            status, reason = _gateway_expectation(item)
            body = response.json()
            if response.status_code != status:
                wrong.append((item.index, item.kind, status, response.status_code, body))
            elif status in (202, 422) and any(r["reason"] != reason for r in body["results"]):
                wrong.append((item.index, item.kind, reason, body["results"][:2]))
            elif status not in (202, 422):
                assert response.headers["content-type"] == "application/problem+json"
                assert body["detail"], body
    assert not wrong, f"seed {SEED + 1}: {wrong[:5]}"
    assert statuses[202] and statuses[422] and statuses[400] and statuses[413], statuses

    # What the gateway accepted reaches the worker and is never quarantined there.
    assert await gw.service.forwarder.flush(timeout=60)
    after = await _settled(hostiles)
    assert after["quarantined"] == before["quarantined"], (before, after)
    forwarded = sum(after.values()) - sum(before.values())
    assert after["verified"] - before["verified"] + after["replay"] - before["replay"] == forwarded
    assert hostiles.crashes() == 0
    record_figures(
        request,
        "hostile bodies (POST /v1/events)",
        inputs=count,
        crashes=int(hostiles.crashes()),
        status_5xx=sum(n for code, n in statuses.items() if code >= 500),
        lost=0,
        classes=_classes(items, "POST single"),
    )


async def test_hostile_batches_get_a_verdict_for_every_event_in_order(
    hostiles: Hostiles, gw: LiveGateway, request: pytest.FixtureRequest
):
    await _settled(hostiles)
    before = await asyncio.to_thread(hostiles.outcomes)
    count = max(200, request.config.getoption("--hostile-count") // 5)
    generator = HostileGenerator(SEED + 2, hostiles.keys, now=datetime.now(UTC))
    # Only what an array can hold as an element (the array is one level more), small
    # enough to batch: a body that is not JSON, or too deep, is refused whole (tested above).
    items = [
        item
        for item in generator.generate(count)
        if len(item.value) < MAX_BODY // 10
        and _gateway_expectation(item)[0] in (202, 422)
        and _parses(item.value, strict_json.MAX_DEPTH)
    ]
    batches: list[list[Hostile]] = []
    for agency in ("RS-BP", "BA-BP"):
        own = [item for item in items if item.agency == agency]
        batches += [own[i : i + 8] for i in range(0, len(own), 8)]
    wrong = []
    async with httpx.AsyncClient(base_url=gw.base, timeout=60) as client:
        for batch in batches:
            body = b"[" + b",".join(item.value for item in batch) + b"]"
            response = await client.post(
                "/v1/events",
                content=body,
                headers={
                    "Authorization": f"Bearer {gw.token(Role.PUBLISHER, agency=batch[0].agency)}",
                    "Content-Type": "application/json",
                },
            )
            assert response.status_code < 500, ([i.kind for i in batch], response.text[:500])
            expected = [_gateway_expectation(item)[1] for item in batch]
            status = 202 if "ok" in expected else 422
            got = [r["reason"] for r in response.json().get("results", [])]
            if response.status_code != status or got != expected:
                wrong.append(([i.index for i in batch], status, response.status_code, got))
    assert not wrong, f"seed {SEED + 2}: {wrong[:5]}"
    assert await gw.service.forwarder.flush(timeout=60)
    after = await _settled(hostiles)
    assert after["quarantined"] == before["quarantined"], (before, after)
    assert hostiles.crashes() == 0
    record_figures(
        request,
        "hostile batches (POST /v1/events)",
        inputs=len(items),
        crashes=int(hostiles.crashes()),
        status_5xx=0,
        lost=0,
        classes=_classes(items, "POST batch"),
    )


async def test_a_valid_event_after_the_storm_flows_through_both_paths(
    hostiles: Hostiles, gw: LiveGateway
):
    key = hostiles.keys.good["RS-BP"]
    now = datetime.now(UTC)
    by_kafka = signed(envelope(time=now - timedelta(minutes=1)), key)
    by_http = signed(envelope(time=now - timedelta(minutes=1)), key)
    await produce(hostiles.stack.bootstrap, INGEST, [(b"BA-ME", record(by_kafka))])
    async with httpx.AsyncClient(base_url=gw.base) as client:
        response = await client.post(
            "/v1/events", json=by_http, headers=gw.auth(Role.PUBLISHER, agency="RS-BP")
        )
    assert response.status_code == 202 and response.json()["accepted"] == 1

    async def shared() -> set[str] | None:
        records = await read_topic(hostiles.stack.bootstrap, SHARED)
        ids = {json.loads(r.value)["provenance"]["event_id"] for r in records}
        wanted = {by_kafka["id"], by_http["id"]}
        return ids & wanted if wanted <= ids else None

    await wait_until(shared, 60, "both valid events on wbx.shared.v1")
    assert hostiles.crashes() == 0


async def test_an_event_the_gateway_accepted_near_its_limits_is_verified_by_a_late_worker(
    hostiles: Hostiles, gw: LiveGateway
):
    # The gateway lives 60 s in the past: the worker reads its records 60 s "later".
    gw.clock.offset = -timedelta(seconds=60)
    try:
        accepted_at = gw.clock()
        key = hostiles.keys.good["RS-BP"]
        near_age_limit = signed(
            envelope(time=accepted_at - timedelta(days=30) + timedelta(seconds=1)), key
        )
        near_deadline = signed(
            envelope(
                time=accepted_at - timedelta(hours=1),
                overrides={"wbxretainuntil": accepted_at + timedelta(seconds=1)},
            ),
            key,
        )
        async with httpx.AsyncClient(base_url=gw.base) as client:
            response = await client.post(
                "/v1/events",
                json=[near_age_limit, near_deadline],
                headers=gw.auth(Role.PUBLISHER, agency="RS-BP"),
            )
        assert response.status_code == 202, response.text
        assert response.json()["accepted"] == 2, response.json()
    finally:
        gw.clock.offset = timedelta()
    wanted = {near_age_limit["id"], near_deadline["id"]}

    async def verified() -> set[str] | None:
        records = await hostiles.stack.read_verified()
        ids = {json.loads(r)["id"] for r in records} & wanted
        return ids if ids == wanted else None

    await wait_until(verified, 60, "both events on wbx.verified.v1")
    quarantined = {
        json.loads(r.value).get("event_id")
        for r in await read_topic(hostiles.stack.bootstrap, QUARANTINE)
    }
    assert not wanted & quarantined


HOSTILE_REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/v1/alerts?since=2026-01-01T00:00:00", {}),  # naive: cannot be compared
    ("GET", "/v1/alerts?until=2026-01-01", {}),
    ("GET", "/v1/alerts?since=" + "9" * 5_000, {}),
    ("GET", "/v1/alerts?limit=" + "9" * 5_000, {}),
    ("GET", "/v1/alerts?status=%00&severity=%ff", {}),
    ("GET", "/v1/alerts/stream", {"headers": {"Last-Event-ID": "1" * 5_000}}),
    ("GET", "/v1/alerts/stream", {"headers": {"Last-Event-ID": "-"}}),
    ("POST", "/v1/alerts/%00%ff/ack", {"content": b"{}"}),
    ("POST", "/v1/alerts/x/ack", {"content": b'{"note": "\\ud800"}'}),
    ("POST", "/v1/alerts/x/ack", {"content": b"[" * 50_000}),
    ("GET", "/v1/stats?from=2026-13-45&to=0", {}),
    ("GET", "/v1/stats?period=fortnight&measure=%F0%9F%98%80", {}),
    ("GET", "/v1/stats?" + "&".join(f"period=X{i}" for i in range(2_000)), {}),
    ("GET", "/v1/stats.csv?from=" + "1" * 5_000, {}),
]


async def test_hostile_parameters_and_headers_get_4xx_problems_never_5xx(
    hostiles: Hostiles, gw: LiveGateway
):
    async def has_alerts() -> bool:
        return bool(gw.service.view("pcc-trebinje").alerts)

    # Comparisons against stored alerts are what used to fail: make sure there are some.
    await wait_until(has_alerts, 60, "an alert in the Trebinje view")
    operator = gw.auth(Role.PCC_OPERATOR, pcc="pcc-trebinje")
    analyst = gw.auth(Role.ANALYST, analyst="marri")
    async with httpx.AsyncClient(base_url=gw.base, timeout=30) as client:
        for method, url, extra in HOSTILE_REQUESTS:
            auth = analyst if "/v1/stats" in url else operator
            headers = {**auth, **extra.get("headers", {})}
            response = await client.request(
                method, url, headers=headers, content=extra.get("content")
            )
            assert 400 <= response.status_code < 500, (url[:80], response.status_code)
            assert response.headers["content-type"] == "application/problem+json", url[:80]
        for authorization in [
            "Bearer " + "a" * 100_000,
            "Bearer \udcff".encode("utf-8", "surrogateescape"),
            b"Basic \xff\xfe",
        ]:
            response = await client.get("/v1/alerts", headers={"Authorization": authorization})
            assert response.status_code == 401, response.text[:200]


def record_of(alert: Any) -> bytes:
    """The record value of a derived record."""
    return str(alert.model_dump_json()).encode()


def _odd_shared_record(data: dict[str, Any]) -> bytes:
    """A record that reads as a SharedRecord but whose protected data has odd shapes."""
    now = datetime.now(UTC)
    return json.dumps(
        {
            "record_id": str(uuid.uuid4()),
            "view": "pcc_operator",
            "type": "wbx.mixed_movement.apprehension",
            "kind": "apprehension",
            "family": "mixed_movement",
            "time": now.isoformat(),
            "agency": "RS-BP",
            "participant": "RS",
            "border_section": "MK-RS",
            "handling": "H2",
            "purpose": "protection",
            "retain_until": (now + timedelta(days=30)).isoformat(),
            "reliability": "B",
            "accuracy": 2,
            "impact": "medium",
            "pseudonym_key_id": "dev",
            "data": data,
            "provenance": {
                "event_id": str(uuid.uuid4()),
                "source": "urn:wbx:agency:RS-BP",
                "digest": "0" * 64,
            },
        }
    ).encode()


async def test_hop_2_and_the_gateway_feeds_survive_unreadable_records(
    hostiles: Hostiles, gw: LiveGateway
):
    bootstrap = hostiles.stack.bootstrap
    junk = [b"\xff not json", b"{}", b"[" * 10_000, b"K" * 300_000]
    odd = [_odd_shared_record({"persons": 5, "group_size": "x"}), _odd_shared_record({})]
    positions = await produce(bootstrap, SHARED, [(b"MK-RS", value) for value in junk + odd])
    await produce(bootstrap, STATS, [(b"k", value) for value in junk])
    await produce(bootstrap, STATS_FINE, [(b"k", value) for value in junk])
    await produce(bootstrap, alerts_topic("pcc-trebinje"), [(b"k", value) for value in junk])

    async def quarantined_from_shared() -> set[int] | None:
        offsets = {
            found["offset"]
            for r in await read_topic(bootstrap, QUARANTINE)
            if (found := json.loads(r.value))["topic"] == SHARED
        }
        return offsets if offsets >= {offset for _, offset in positions[: len(junk)]} else None

    await wait_until(quarantined_from_shared, 60, "junk shared records in quarantine")
    assert hostiles.crashes() == 0, hostiles.stack.worker and hostiles.stack.worker.log()

    # The gateway's feed skipped the junk and still follows its topics.
    alert = make_alert("pcc-trebinje")
    await produce(bootstrap, alerts_topic(alert.pcc), [(alert.id.encode(), record_of(alert))])

    async def alert_seen() -> bool:
        return alert.id in gw.service.view("pcc-trebinje").alerts

    await wait_until(alert_seen, 30, "a valid alert after junk on the alerts topic")
    unreadable = sum(
        s.value
        for family in text_string_to_metric_families(generate_latest().decode())
        for s in family.samples
        if s.name == "wbx_gateway_unreadable_records_total"
    )
    assert unreadable >= 2 * len(junk)
