"""Crypto-shredding end to end: once a retention day's key is destroyed, that day's personal
data on wbx.verified.v1 and wbx.shared.v1 cannot be read, newer records still can, and the
statistics stay exactly as they were, even after hop 2 rebuilds from the topics."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from schemas.derived import SharedRecord, StatCell
from schemas.shredding import FileKeyStore, ShreddedError, is_sealed_value
from schemas.topics import INGEST, SHARED, STATS, VERIFIED
from tests.integration.kafka_io import produce, read_topic, wait_until
from tests.integration.pipeline_stack import Stack, start_stack, stop_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):
    stack = start_stack(tmp_path_factory.mktemp("shredding"))
    stack.start_worker()
    yield stack
    stop_stack(stack)


async def _stats(stack: Stack) -> dict[str, tuple[int, str, str]]:
    latest: dict[str, tuple[int, str, str]] = {}
    for record in await read_topic(stack.bootstrap, STATS):
        cell = StatCell.model_validate_json(record.value)
        latest[cell.key] = (cell.count, cell.display, cell.status)
    return latest


async def _shared(stack: Stack, event_id: str) -> SharedRecord:
    for record in await read_topic(stack.bootstrap, SHARED):
        shared = SharedRecord.model_validate_json(record.value)
        if shared.provenance.event_id == event_id:
            return shared
    raise AssertionError(f"{event_id} is not on {SHARED}")


async def test_a_destroyed_days_records_are_unreadable_newer_ones_not_and_stats_unchanged(
    stack: Stack,
):
    now = datetime.now(UTC)
    soon, later = now + timedelta(days=1), now + timedelta(days=20)
    ids = {"soon": str(uuid.uuid4()), "later": str(uuid.uuid4())}
    sent = {}
    for name, deadline in (("soon", soon), ("later", later)):
        person = {"nationality": "SYR", "sex": "female", "document_number": f"SHRED-{name}"}
        data = {"border_section": "BA-ME", "direction": "entry", "group_size": 5,
                "persons": [person] * 5}  # fmt: skip
        overrides = {"wbxretainuntil": deadline.isoformat()}
        sent[name] = stack.signed("apprehension", data, "BA-BP", event_id=ids[name],
                                  overrides=overrides)  # fmt: skip
    await produce(stack.bootstrap, INGEST, [(b"BA-ME", v) for v in sent.values()])

    async def stats_settled() -> dict[str, tuple[int, str, str]] | None:
        shared = {json.loads(r.value)["provenance"]["event_id"]
                  for r in await read_topic(stack.bootstrap, SHARED)}  # fmt: skip
        if not set(ids.values()) <= shared:
            return None
        first = await _stats(stack)
        await asyncio.sleep(1.0)  # a few flush intervals: nothing more to publish
        return first if first and first == await _stats(stack) else None

    before = await wait_until(stats_settled, 60, "both events counted and published")
    shredder = stack.contract().shredder()
    today = now.date()
    verified = {json.loads(shredder.open_record(r.value, today, VERIFIED))["id"]: r.value
                for r in await read_topic(stack.bootstrap, VERIFIED)}  # fmt: skip
    assert b"SHRED-" not in b"".join(verified.values())  # sealed on the topic
    sealed_soon = (await _shared(stack, ids["soon"])).data["persons"][0]["document_number"]
    assert is_sealed_value(sealed_soon)

    shredded = stack.wbx("retention", "shred", "--through", soon.date().isoformat())
    assert shredded.returncode == 0, shredded.stderr
    assert f"destroyed the key of {soon.date().isoformat()}" in shredded.stdout

    # Whoever reads now, a fresh reader or one that held the key a moment ago, gets nothing.
    await asyncio.sleep(FileKeyStore.RECHECK_SECONDS)
    for reader in (stack.contract().shredder(), shredder):
        with pytest.raises(ShreddedError):
            reader.open_record(verified[ids["soon"]], today, VERIFIED)
        with pytest.raises(ShreddedError):
            reader.open_value(sealed_soon, today)
    assert shredder.open_record(verified[ids["later"]], today, VERIFIED) == sent["later"]
    later_shared = await _shared(stack, ids["later"])
    document = shredder.open_value(later_shared.data["persons"][0]["document_number"], today)
    assert document.startswith("psn:")
    gone = await _shared(stack, ids["soon"])
    assert [p["nationality"] for p in gone.persons()] == ["SYR"] * 5  # counts' inputs stay

    # Hop 2 starts over from the topics (a new owner rebuilds at its first shared record: a
    # redelivered one, which changes nothing) and publishes each cell whose value differs
    # from what wbx.stats.v1 shows: none may.
    assert stack.worker is not None
    stack.worker.stop()
    stack.start_worker()
    again = next(r for r in await read_topic(stack.bootstrap, SHARED)
                 if json.loads(r.value)["provenance"]["event_id"] == ids["later"])  # fmt: skip
    await produce(stack.bootstrap, SHARED, [(again.key, again.value)])

    async def rebuilt() -> bool:
        assert stack.worker is not None
        return "regional state rebuilt" in stack.worker.log()

    await wait_until(rebuilt, 90, "hop 2's rebuild")
    await asyncio.sleep(2.0)  # several flush intervals
    assert await _stats(stack) == before
