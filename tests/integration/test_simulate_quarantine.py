"""Simulated traffic through a real worker: bad records in quarantine with their reason codes."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from producers.simulate import SimKeys, Simulator
from schemas.keys import KeyRegistry
from schemas.topics import INGEST, QUARANTINE, SHARED
from tests.integration.kafka_io import produce, read_topic, wait_until
from tests.integration.pipeline_stack import start_stack, stop_stack

pytestmark = pytest.mark.integration


def test_bad_share_of_simulated_traffic_lands_in_quarantine_with_expected_reasons(tmp_path: Path):
    keys = SimKeys.load_or_create(tmp_path / "sim-keys")
    extra = {e.kid: e for e in KeyRegistry.load(keys.registry_path).entries()}
    stack = start_stack(tmp_path, extra)
    try:
        stack.start_worker()
        # 300 records at 60/h take up to ~7 simulated hours by day: start early enough that
        # none is dated in the future (which would be too_old_or_future, not its label).
        start = datetime.now(UTC) - timedelta(hours=24)
        records = list(Simulator(21, start, keys, bad_share=0.1, per_hour=60).records(300))
        expected = {json.loads(r.value)["id"]: r.expected for r in records}
        asyncio.run(produce(stack.bootstrap, INGEST, [(r.key, r.value) for r in records]))
        bad = {i: e for i, e in expected.items() if e != "ok"}
        good = {i for i, e in expected.items() if e == "ok"}

        async def settled() -> tuple[dict[str, str], set[str]] | None:
            quarantined = {
                json.loads(r.value)["event_id"]: json.loads(r.value)["reason"]
                for r in await read_topic(stack.bootstrap, QUARANTINE)
            }
            shared = {
                json.loads(r.value)["provenance"]["event_id"]
                for r in await read_topic(stack.bootstrap, SHARED)
            }
            return (
                (quarantined, shared) if len(quarantined) >= len(bad) and good <= shared else None
            )

        quarantined, shared = asyncio.run(wait_until(settled, 90, "all simulated records"))
        assert bad and quarantined == bad
        assert not shared & set(bad)
    finally:
        stop_stack(stack)
