"""Signed receipts end to end: a publisher learns the verdict on each of its events, from
the library, the gateway and `wbx receipts`, and never sees another agency's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from gateway.auth import Role
from producers.outbox import Outbox
from producers.publisher import Publisher
from producers.receipts import ReceiptError
from producers.settings import PublisherSettings
from schemas.receipts import Receipt
from schemas.settings import KafkaSettings
from schemas.topics import INGEST, receipts_topic
from tests.factories import make_receipt
from tests.integration.gateway_server import start_gateway
from tests.integration.kafka_io import produce
from tests.integration.pipeline_stack import Stack, start_stack, stop_stack

pytestmark = pytest.mark.integration

EVENT = {"type": "death_or_missing_person", "border_section": "MK-RS", "count": 1}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):
    stack = start_stack(tmp_path_factory.mktemp("receipts"))
    stack.start_worker()
    yield stack
    stop_stack(stack)


def _publisher(stack: Stack, tmp_path: Path) -> Publisher:
    kafka = KafkaSettings(bootstrap=stack.bootstrap, idempotence=False)
    settings = PublisherSettings(outbox_dir=tmp_path, retry_initial=0.1, retry_max=0.5)
    outbox = Outbox.for_agency(tmp_path, "RS-BP", 100)
    return Publisher("RS-BP", stack.keys["RS-BP"][0], outbox, kafka, settings,
                     receipt_key=stack.receipt_key.public_key())  # fmt: skip


def _cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wbx", "receipts", *args],
        env={**os.environ, **stack.env()},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_good_and_tampered_events_get_signed_receipts_seen_only_by_their_agency(
    stack: Stack, tmp_path: Path
):
    publisher = _publisher(stack, tmp_path)
    await publisher.start()
    try:
        queued = await publisher.publish(EVENT)
        assert await publisher.flush(timeout=30)
        good = await publisher.receipt(queued.event_id, timeout=60)
        # A tampered event: RS-BP's signature, then a changed count.
        data = {"border_section": "MK-RS", "count": 2}
        tampered = json.loads(stack.signed("death_or_missing_person", data, "RS-BP"))
        tampered["data"]["count"] = 20
        await produce(stack.bootstrap, INGEST, [(b"MK-RS", json.dumps(tampered).encode())])
        bad = await publisher.receipt(tampered["id"], timeout=60)
    finally:
        await publisher.stop()
    assert (good.verdict, good.agency, good.topic) == ("ok", "RS-BP", INGEST)
    assert (bad.verdict, bad.event_id) == ("bad_signature", tampered["id"])
    for receipt in (good, bad):
        assert receipt.signature_valid(stack.receipt_key.public_key())

    gateway = await start_gateway(stack, tmp_path / "gateway")
    try:
        async with httpx.AsyncClient(base_url=gateway.base) as client:
            rs_bp = gateway.auth(Role.PUBLISHER, agency="RS-BP")
            ba_bp = gateway.auth(Role.PUBLISHER, agency="BA-BP")
            own = await client.get("/v1/receipts", headers=rs_bp)
            other = await client.get("/v1/receipts", headers=ba_bp)
            key = (await client.get("/v1/receipts/key")).json()
    finally:
        await gateway.stop()
    served = {r["event_id"]: Receipt.model_validate(r) for r in own.json()}
    assert served[queued.event_id].verdict == "ok"
    assert served[tampered["id"]].verdict == "bad_signature"
    assert not {queued.event_id, tampered["id"]} & {r["event_id"] for r in other.json()}
    assert key["kid"] == good.signer

    listed = _cli(stack, "--agency", "RS-BP", "--verify")
    assert listed.returncode == 0, listed.stderr
    printed = {json.loads(line)["event_id"] for line in listed.stdout.splitlines()}
    assert {queued.event_id, tampered["id"]} <= printed
    assert "every signature valid" in listed.stderr


async def test_a_forged_receipt_is_named_by_the_cli_and_refused_by_the_library(
    stack: Stack, tmp_path: Path
):
    forged = make_receipt("RS-BP", "ok", event_id=str(uuid.uuid4()), offset=999_999)
    await produce(stack.bootstrap, receipts_topic("RS-BP"),
                  [(b"forged", forged.model_dump_json().encode())])  # fmt: skip
    checked = _cli(stack, "--agency", "RS-BP", "--verify", "--verdict", "ok")
    assert checked.returncode == 1
    assert "INVALID signature: receipt for wbx.ingest.v1:0@999999" in checked.stderr
    publisher = _publisher(stack, tmp_path)
    with pytest.raises(ReceiptError, match="not signed by the platform's receipt key"):
        await publisher.receipt(str(forged.event_id), timeout=30)
