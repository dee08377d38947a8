"""The live key registry on a running worker and gateway: new keys, backfill, revocation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway import metrics as gateway_metrics
from gateway.auth import Role
from schemas.audit import AuditAction, AuditRecord
from schemas.json_types import parse_rfc3339
from schemas.keys import KeyEntry, load_private_key, new_key_pair
from schemas.registry_log import Outcome, sign_change
from schemas.signed import public_key_text
from schemas.topics import AUDIT, AUDIT_CHECKPOINTS, INGEST, KEYS, QUARANTINE, VERIFIED
from tests.factories import AgencyKey, envelope, record, signed
from tests.integration.gateway_server import LiveGateway
from tests.integration.kafka_io import produce, read_topic, wait_until
from tests.integration.pipeline_stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]


def wbx(stack: Stack, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """Run the `wbx` command line as an operator would, against this stack."""
    env = {
        **os.environ,
        **stack.env(),
        "WBX_PUBLISHER_OUTBOX_DIR": str(stack.tmp / "cli-outbox"),
        **extra,
    }
    return subprocess.run(
        [sys.executable, "-m", "wbx", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def new_key(stack: Stack, agency: str) -> tuple[str, Path]:
    """`wbx keys new` on the topic: the key id and the private key file."""
    out = stack.tmp / f"{agency}-{time.monotonic_ns()}.pem"
    made = wbx(stack, "keys", "new", "--agency", agency, "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert f"registered:  {KEYS}" in made.stdout
    kid = next(
        line.split(":", 1)[1].strip()
        for line in made.stdout.splitlines()
        if line.startswith("key id:")
    )
    return kid, out


async def post(gw: LiveGateway, agency: str, event: dict[str, object]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=gw.base) as client:
        return await client.post(
            "/v1/events", json=event, headers=gw.auth(Role.PUBLISHER, agency=agency)
        )


async def on_topic(stack: Stack, topic: str, event_ids: set[str]) -> list[dict[str, object]]:
    """Wait until every id is on `topic` (as the envelope's id or a quarantine's event_id)."""

    async def found() -> list[dict[str, object]] | None:
        raw = (
            await stack.read_verified()
            if topic == VERIFIED
            else [r.value for r in await read_topic(stack.bootstrap, topic)]
        )
        values = [json.loads(value) for value in raw]
        hits = [v for v in values if (v.get("id") or v.get("event_id")) in event_ids]
        return hits if {h.get("id") or h.get("event_id") for h in hits} == event_ids else None

    hits: list[dict[str, object]] = await wait_until(found, 60, f"{event_ids} on {topic}")
    return hits


async def test_a_new_agencys_key_made_now_backfills_through_gateway_worker_and_cli(
    stack: Stack, gw: LiveGateway
):
    kid, key_file = new_key(stack, "AL-MIG")  # an agency that had no key: no restart
    key = await key_of(gw, kid, key_file)  # within 5 s of the change
    three_days_ago = datetime.now(UTC) - timedelta(days=3)

    def event(count: int) -> dict[str, object]:
        data = {"border_section": "AL-ME", "count": count}
        return signed(envelope("death_or_missing_person", data, "AL-MIG", time=three_days_ago), key)

    # The gateway: a backfilled event signed with a key made now verifies.
    backfilled = event(1)

    response = await post(gw, "AL-MIG", backfilled)
    assert response.status_code == 202, response.text
    # The worker: the same key, straight onto the ingest topic.
    direct = event(2)
    await produce(stack.bootstrap, INGEST, [(b"AL-ME", record(direct))])
    await on_topic(stack, VERIFIED, {str(backfilled["id"]), str(direct["id"])})
    # The CLI: `wbx verify` reads the live registry too.
    lines = stack.tmp / "backfill.jsonl"
    lines.write_bytes(record(direct) + b"\n")
    checked = wbx(stack, "verify", str(lines))
    assert checked.returncode == 0 and "line 1: ok" in checked.stdout, checked.stdout


async def test_import_csv_of_last_weeks_rows_with_a_key_made_today_ends_verified(
    stack: Stack, gw: LiveGateway
):
    _, key_file = new_key(stack, "MK-BP")
    week_ago = (datetime.now(UTC) - timedelta(days=7)).strftime("%d.%m.%Y")
    rows = stack.tmp / "last-week.csv"
    rows.write_text(
        "incident_ref;date_time;section;direction;nationality;sex;date_of_birth;name;"
        "document_no;vulnerabilities;notes\n"
        f"W-1;{week_ago} 03:10;MK-RS;ulaz;AFG;M;;;;;\n"
        f"W-2;{week_ago} 05:40;MK-RS;izlaz;SYR;F;;;;;\n",
        encoding="utf-8",
    )
    imported = wbx(stack, "import-csv", "--agency", "MK-BP", "--key", str(key_file),
                   "--type", "apprehension", str(rows))  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    assert "2 rows read, 2 events published" in imported.stdout

    old = datetime.now(UTC) - timedelta(days=6)

    async def verified() -> int | None:
        values = [json.loads(v) for v in await stack.read_verified()]
        mine = [
            v
            for v in values
            if v["source"] == "urn:wbx:agency:MK-BP" and parse_rfc3339(v["time"]) < old
        ]
        return len(mine) if len(mine) == 2 else None

    await wait_until(verified, 60, "last week's rows on wbx.verified.v1")


async def test_a_revocation_stops_the_key_at_the_gateway_and_the_worker_within_5_s(
    stack: Stack, gw: LiveGateway
):
    kid, key_file = new_key(stack, "ME-MIG")
    key = await key_of(gw, kid, key_file)

    def event(count: int) -> dict[str, object]:
        data = {"border_section": "ME-RS", "count": count}
        return signed(envelope("death_or_missing_person", data, "ME-MIG"), key)

    assert (await post(gw, "ME-MIG", event(1))).status_code == 202
    revoked = wbx(stack, "keys", "revoke", kid)
    assert revoked.returncode == 0 and f"revoked {kid}" in revoked.stdout, revoked.stderr
    refused_event = event(2)

    async def refused() -> httpx.Response | None:
        response = await post(gw, "ME-MIG", refused_event)
        return response if response.status_code == 422 else None

    response = await wait_until(refused, 5, "the gateway to refuse the revoked key")
    assert response.json()["results"][0]["reason"] == "revoked_key"
    direct = event(3)
    await produce(stack.bootstrap, INGEST, [(b"ME-RS", record(direct))])
    (quarantined,) = await on_topic(stack, QUARANTINE, {str(direct["id"])})
    assert quarantined["reason"] == "revoked_key"


async def test_a_registry_record_not_signed_by_the_registry_key_is_ignored_logged_counted(
    stack: Stack, gw: LiveGateway
):
    _, entry = new_key_pair("XK-MIG")
    forged = sign_change("add", entry, Ed25519PrivateKey.generate())
    counter = gateway_metrics.KEY_CHANGES.labels(Outcome.UNSIGNED.value)
    before = counter._value.get()
    await produce(stack.bootstrap, KEYS, [(entry.kid.encode(), forged)])

    async def counted() -> bool | None:
        return True if counter._value.get() > before else None

    await wait_until(counted, 5, "the gateway to count the unsigned record")
    assert gw.service.keys.registry.get(entry.kid) is None

    async def logged() -> bool | None:
        assert stack.worker is not None
        return True if "ignored (unsigned)" in stack.worker.log() else None

    await wait_until(logged, 10, "the worker to log the unsigned record")


async def key_of(gw: LiveGateway, kid: str, key_file: Path) -> AgencyKey:
    """The private key and its registry entry, once the gateway has read the entry."""

    async def entry() -> KeyEntry | None:
        return gw.service.keys.registry.get(kid)

    found: KeyEntry = await wait_until(entry, 5, f"{kid} to reach the gateway")
    return load_private_key(key_file), found


async def test_the_registry_travels_on_a_stick_to_an_offline_site_and_back(
    stack: Stack, gw: LiveGateway
):
    kid, _ = new_key(stack, "BA-SFA")
    stick = stack.tmp / "stick.jsonl"
    exported = wbx(stack, "keys", "export", "--out", str(stick))
    assert exported.returncode == 0, exported.stderr
    assert kid in stick.read_text()
    listed = wbx(stack, "keys", "list")
    assert f"{kid}\tBA-SFA\tactive" in listed.stdout
    offline = wbx(stack, "keys", "list", WBX_REGISTRY_LOG=str(stick))  # no broker needed
    assert f"{kid}\tBA-SFA\tactive" in offline.stdout
    back = wbx(stack, "keys", "import", str(stick))
    assert back.returncode == 0 and "(0 new)" in back.stdout, back.stdout + back.stderr


async def test_each_key_change_is_on_the_audit_trail_signed_by_the_registry_key(
    stack: Stack, gw: LiveGateway
):
    kid, _ = new_key(stack, "ME-MIG")
    assert wbx(stack, "keys", "retire", kid).returncode == 0
    changes = sorted(
        (
            AuditRecord.model_validate_json(r.value)
            for r in await read_topic(stack.bootstrap, AUDIT)
            if b'"key_change"' in r.value and kid.encode() in r.value
        ),
        key=lambda c: c.at,  # two CLI runs, two chains: on any partitions
    )
    assert [(c.action, c.target, c.recipient) for c in changes] == [
        (AuditAction.KEY_CHANGE, kid, KEYS),
        (AuditAction.KEY_CHANGE, kid, KEYS),
    ]
    assert changes[0].detail.startswith("add key") and changes[1].detail.startswith("retire key")
    registry = stack.registry_key.public_key()
    assert all(c.signature_valid(registry) for c in changes)
    heads = [json.loads(r.value) for r in await read_topic(stack.bootstrap, AUDIT_CHECKPOINTS)]
    assert {c.chain for c in changes} <= {h["chain"] for h in heads}
    gateway_key = public_key_text(gw.service.audit.chain.public_key)
    verified = wbx(stack, "audit", "verify", WBX_AUDIT_PUBLIC_KEYS=json.dumps([gateway_key]))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "0 broken" in verified.stdout
