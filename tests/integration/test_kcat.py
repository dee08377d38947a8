"""Debian's `kcat` reads every topic of a running platform, and every record is JSON.

Operators debug a cluster with the tools they already have; the platform's topics must
make sense to them. The broker sits behind `kafka_relay.Relay` (see there: Debian 12's
librdkafka misreads the embedded broker's ApiVersions answer, not Apache Kafka's).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from gateway.auth import Role
from schemas.topics import INGEST, KEYS, SHARED, STATS, alerts_topic, receipts_topic
from tests.factories import EVERY_TYPE, canary_person
from tests.integration.gateway_server import start_gateway
from tests.integration.kafka_io import produce, read_topic, wait_until
from tests.integration.kafka_relay import Relay
from tests.integration.pipeline_stack import Stack, start_stack, stop_stack
from tests.integration.test_key_registry import new_key
from wbx.broker import EmbeddedBroker, free_port
from wbx.topics import reference_and_plan

pytestmark = pytest.mark.integration

KCAT = shutil.which("kcat")
SENDERS = {receipts_topic("MK-BP"), receipts_topic("BA-BP")}


@pytest.fixture(scope="module")
def relayed(tmp_path_factory: pytest.TempPathFactory):
    """A stack whose broker every client reaches through the relay, and the relay."""
    broker_port = free_port()
    relay = Relay(("127.0.0.1", broker_port), free_port())
    relay.start()
    broker = EmbeddedBroker(port=broker_port, advertise=f"127.0.0.1:{relay.port}")
    stack = start_stack(tmp_path_factory.mktemp("kcat"), broker=broker)
    stack.start_worker()
    yield stack, relay
    stop_stack(stack)
    relay.stop()


def kcat(relay: Relay, *args: str) -> subprocess.CompletedProcess[str]:
    """Run Debian's kcat against the platform, as an operator would."""
    assert KCAT, "kcat is missing: `make test-tools` installs Debian's package"
    return subprocess.run(
        [KCAT, "-b", f"127.0.0.1:{relay.port}", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def _fill_every_topic(stack: Stack, tmp: Path) -> None:
    """Traffic that reaches every topic: each event type, an alert at each PCC (one
    acknowledged), a forgery, a key registered."""
    ids = {str(uuid.uuid4()) for _ in EVERY_TYPE}
    records = [
        (b"MK-RS", stack.signed(kind, data, "MK-BP", event_id=event_id))
        for (kind, data), event_id in zip(EVERY_TYPE.items(), ids, strict=True)
    ]
    # An unaccompanied child at a section of PCC Trebinje's: an alert there too.
    child = canary_person("20", birth_date="2012-03-01", vulnerabilities=["uam"])
    uam = {"border_section": "BA-ME", "person": child}
    records.append((b"BA-ME", stack.signed("vulnerability_identified", uam, "BA-BP")))
    records.append((b"MK-RS", b'{"specversion": "1.0", "not": "signed"}'))
    await produce(stack.bootstrap, INGEST, records)

    async def shared_and_stats() -> bool:
        shared = await read_topic(stack.bootstrap, SHARED)
        done = ids <= {json.loads(r.value)["provenance"]["event_id"] for r in shared}
        return done and bool(await read_topic(stack.bootstrap, STATS))

    await wait_until(shared_and_stats, 60, "shared records and statistics")
    new_key(stack, "AL-BP")
    gateway = await start_gateway(stack, tmp)
    try:
        headers = gateway.auth(Role.PCC_OPERATOR, pcc="pcc-plav")
        async with httpx.AsyncClient(base_url=gateway.base, headers=headers) as client:

            async def an_alert() -> str | None:
                alerts = (await client.get("/v1/alerts")).json()
                return alerts[0]["id"] if alerts else None

            alert_id = await wait_until(an_alert, 30, "an alert at PCC Plav")
            acked = await client.post(f"/v1/alerts/{alert_id}/ack", json={"note": "on it"})
            assert acked.status_code == 200, acked.text
    finally:
        await gateway.stop()


async def test_kcat_lists_and_reads_every_topic_as_json(relayed, tmp_path: Path):
    stack, relay = relayed
    await _fill_every_topic(stack, tmp_path)
    plan = [spec.name for spec in reference_and_plan()[1]]
    listing = kcat(relay, "-L", "-J")
    assert listing.returncode == 0, listing.stderr
    assert set(plan) <= {t["topic"] for t in json.loads(listing.stdout)["topics"]}
    for topic in plan:
        read = kcat(relay, "-C", "-t", topic, "-o", "beginning", "-e", "-J", "-q")
        assert read.returncode == 0, f"{topic}: {read.stderr}"
        lines = read.stdout.splitlines()
        # Receipts go to the agency that sent: only MK-BP and BA-BP sent anything here.
        silent = topic.startswith("wbx.receipts.") and topic not in SENDERS
        assert lines or silent, f"kcat read nothing from {topic}"
        for line in lines:
            message = json.loads(line)  # kcat's own envelope: topic, partition, key, payload
            assert message["topic"] == topic
            try:
                json.loads(message["payload"])
            except (TypeError, ValueError) as exc:
                pytest.fail(f"{topic} offset {message['offset']} is not JSON: {exc}")
    assert relay.rewritten, "kcat never went through the relay"
    assert alerts_topic("pcc-plav") in plan and KEYS in plan
