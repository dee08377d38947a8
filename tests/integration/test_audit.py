"""The audit trail end to end: the worker's chains verify, `wbx audit verify` names a record
an intruder altered, deleted or moved, and the data-protection officer finds every event
about one person across agencies, and nobody else may ask."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest

from gateway.auth import Role
from schemas.audit import AuditChain, AuditRecord
from schemas.signed import RECEIPT_PURPOSE, key_id
from schemas.topics import AUDIT, INGEST
from tests.factories import make_audit_fact
from tests.integration.gateway_server import start_gateway
from tests.integration.kafka_io import produce, read_topic, wait_until
from tests.integration.pipeline_stack import Stack, start_stack, stop_stack

pytestmark = pytest.mark.integration

DOCUMENT = "AB 123-45"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):
    stack = start_stack(tmp_path_factory.mktemp("audit"))
    stack.start_worker()
    yield stack
    stop_stack(stack)


def _person(document: str) -> dict[str, object]:
    return {"nationality": "SYR", "sex": "female", "document_number": document}


async def _audited(stack: Stack) -> list[AuditRecord]:
    return [
        AuditRecord.model_validate_json(r.value) for r in await read_topic(stack.bootstrap, AUDIT)
    ]


async def test_the_dpo_finds_exactly_the_events_that_carried_a_document_number(
    stack: Stack, tmp_path: Path
):
    ids = {name: str(uuid.uuid4()) for name in ("serbia", "bosnia", "someone_else")}
    apprehension = {"border_section": "BA-ME", "direction": "entry", "group_size": 1}
    records = [
        # The same document, written two ways by two agencies.
        (b"MK-RS", stack.signed("asylum_application",
                                {"border_section": "MK-RS", "persons": [_person(DOCUMENT)]},
                                "RS-BP", event_id=ids["serbia"])),
        (b"BA-ME", stack.signed("apprehension", {**apprehension, "persons": [_person("ab12345")]},
                                "BA-BP", event_id=ids["bosnia"])),
        (b"BA-ME", stack.signed("apprehension", {**apprehension, "persons": [_person("ZZ99")]},
                                "BA-BP", event_id=ids["someone_else"])),
    ]  # fmt: skip
    await produce(stack.bootstrap, INGEST, records)

    async def all_audited() -> bool:
        return set(ids.values()) <= {r.event_id for r in await _audited(stack)}

    await wait_until(all_audited, 60, "the three releases on the audit trail")

    result = stack.wbx("dpo", "subject", "--document-number", DOCUMENT)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {e["event_id"] for e in report["events"]} == {ids["serbia"], ids["bosnia"]}
    assert {e["source"] for e in report["events"]} == {
        "urn:wbx:agency:RS-BP", "urn:wbx:agency:BA-BP"
    }  # fmt: skip
    assert all("view:pcc_operator" in e["recipients"] for e in report["events"])
    (pseudonym,) = report["pseudonyms"]
    assert DOCUMENT not in result.stdout and "ab12345" not in result.stdout.lower()
    assert "2 events" in result.stderr

    as_csv = stack.wbx("dpo", "subject", "--document-number", "ab-12345", "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    lines = as_csv.stdout.splitlines()
    assert lines[0].startswith("at,action,event_id,source")
    assert {line.split(",")[2] for line in lines[1:]} >= {ids["serbia"], ids["bosnia"]}
    assert ids["someone_else"] not in as_csv.stdout

    gateway = await start_gateway(stack, tmp_path)
    try:
        async with httpx.AsyncClient(base_url=gateway.base, timeout=30) as client:
            asked = await client.get("/v1/audit", params={"pseudonym": pseudonym},
                                     headers=gateway.auth(Role.DPO))  # fmt: skip
            assert asked.status_code == 200, asked.text
            found = {r["event_id"] for r in asked.json() if r["event_id"]}
            assert found == {ids["serbia"], ids["bosnia"]}
            assert all(set(r) >= {"recipient", "purpose", "at"} for r in asked.json())
            for role, binding in ((Role.ANALYST, {"analyst": "ana"}),
                                  (Role.PCC_OPERATOR, {"pcc": "pcc-trebinje"})):  # fmt: skip
                refused = await client.get("/v1/audit", params={"pseudonym": pseudonym},
                                           headers=gateway.auth(role, **binding))  # fmt: skip
                assert refused.status_code == 403, refused.text
    finally:
        await gateway.stop()


async def test_wbx_audit_verify_names_the_altered_the_deleted_and_the_moved_record(stack: Stack):
    # An intruder with write access to the topic, not the platform key, rewrites three
    # chains the platform key signed: one record altered, one left out, one moved.
    signer = key_id(stack.receipt_key.public_key(), RECEIPT_PURPOSE)
    run = uuid.uuid4().hex[:8]
    tampered: list[tuple[bytes, bytes]] = []
    for name in ("altered", "deleted", "moved"):
        writer = AuditChain(f"worker/intruder-test/{run}/{name}", stack.receipt_key, signer)
        chain = [writer.link(make_audit_fact(n)).model_dump_json().encode() for n in (1, 2, 3, 4)]
        if name == "altered":
            changed = json.loads(chain[1])
            changed["recipient"] = "pcc:pcc-plav"
            chain[1] = json.dumps(changed).encode()
        elif name == "deleted":
            del chain[2]
        else:
            chain[1], chain[2] = chain[2], chain[1]
        tampered += [(writer.chain.encode(), value) for value in chain]
    await produce(stack.bootstrap, AUDIT, tampered)

    result = stack.wbx("audit", "verify")
    assert result.returncode == 1, result.stdout + result.stderr
    broken = [line for line in result.stdout.splitlines() if line.startswith("BROKEN:")]
    named = {
        (line.split()[1], line.split(" chain ")[1].split()[0].rsplit("/", 1)[1],
         line.split(" seq ")[1].split(":")[0])
        for line in broken
    }  # fmt: skip
    assert named == {("altered", "altered", "2"), ("deleted", "deleted", "4"),
                     ("reordered", "moved", "2")}  # fmt: skip
    for line in broken:
        assert f"{AUDIT}:" in line  # and where it is on the topic
    # The platform's own chains are whole: every break is the intruder's.
    assert all("intruder-test" in line for line in broken)
    assert " whole, 3 broken" in result.stdout


async def test_a_publisher_reads_back_its_own_verified_event_byte_for_byte(
    stack: Stack, tmp_path: Path
):
    ours, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    data = {"border_section": "MK-RS", "count": 1}
    mine = stack.signed("death_or_missing_person", data, "RS-BP", event_id=ours)
    other = stack.signed("death_or_missing_person", data, "BA-BP", event_id=theirs)
    gateway = await start_gateway(stack, tmp_path)
    try:
        await produce(stack.bootstrap, INGEST, [(b"MK-RS", mine), (b"MK-RS", other)])
        publisher = gateway.auth(Role.PUBLISHER, agency="RS-BP")
        async with httpx.AsyncClient(base_url=gateway.base, timeout=30) as client:

            async def served() -> httpx.Response | None:
                response = await client.get(f"/v1/events/{ours}", headers=publisher)
                return response if response.status_code == 200 else None

            response = await wait_until(served, 60, "the event back from the gateway")
            assert response.content == mine  # in full, as signed: its signature still holds
            listed = await client.get("/v1/events", headers=publisher)
            assert ours in {e["id"] for e in listed.json()}
            assert theirs not in listed.text

            async def theirs_verified() -> bool:
                own = gateway.service.events["BA-BP"]
                return own.get(theirs, gateway.service.clock()) is not None

            await wait_until(theirs_verified, 60, "BA-BP's event at the gateway")
            refused = await client.get(f"/v1/events/{theirs}", headers=publisher)
            assert refused.status_code == 404
            analyst = gateway.auth(Role.ANALYST, analyst="ana")
            assert (await client.get("/v1/events", headers=analyst)).status_code == 403
    finally:
        await gateway.stop()
