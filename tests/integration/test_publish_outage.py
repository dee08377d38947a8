"""Store-and-forward: a broker outage and a killed publisher lose nothing and duplicate nothing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from producers.outbox import Outbox
from producers.publisher import Publisher
from producers.settings import PublisherSettings
from schemas.keys import write_private_key
from schemas.settings import KafkaSettings
from tests.figures import record_figures
from tests.integration.kafka_io import wait_until
from tests.integration.pipeline_stack import Stack, start_stack, stop_stack
from wbx.broker import EmbeddedBroker
from wbx.topics import apply_topics, reference_and_plan

pytestmark = pytest.mark.integration

EVENT = {"type": "death_or_missing_person", "border_section": "MK-RS", "count": 1}


async def _verified_ids(stack: Stack) -> list[str]:
    return [json.loads(value)["id"] for value in await stack.read_verified()]


def test_broker_down_then_back_all_1000_arrive_exactly_once(
    tmp_path: Path, request: pytest.FixtureRequest
):
    stack = start_stack(tmp_path)
    try:
        port = stack.broker.port
        stack.broker.stop()
        kafka = KafkaSettings(bootstrap=stack.bootstrap, idempotence=False)
        settings = PublisherSettings(
            outbox_dir=tmp_path / "outbox", retry_max=0.5, request_timeout_ms=2000
        )
        private, _ = stack.keys["RS-BP"]

        async def publish_while_down() -> list[str]:
            publisher = Publisher(
                "RS-BP",
                private,
                Outbox.for_agency(settings.outbox_dir, "RS-BP", 10_000),
                kafka,
                settings,
            )
            await publisher.start()
            ids = [(await publisher.publish(EVENT)).event_id for _ in range(1000)]
            assert not await publisher.flush(timeout=1)  # the broker is down: all queued
            assert publisher.outbox.backlog() == 1000
            stack.broker = EmbeddedBroker(port=port)
            stack.broker.start()
            await apply_topics(kafka, reference_and_plan(kafka)[1])
            assert await publisher.flush(timeout=60)
            await publisher.stop()
            return ids

        ids = asyncio.run(publish_while_down())
        stack.start_worker()

        async def all_verified() -> list[str] | None:
            got = await _verified_ids(stack)
            return got if len(set(got)) >= 1000 else None

        got = asyncio.run(wait_until(all_verified, 90, "1,000 verified events"))
        assert sorted(got) == sorted(ids)  # each exactly once
        record_figures(
            request,
            "broker stopped under the publisher's outbox",
            inputs=len(ids),
            crashes=1,
            lost=len(set(ids) - set(got)),
            double_counted=len(got) - len(set(got)),
        )
    finally:
        stop_stack(stack)


def _backlog(path: Path) -> int:
    """Events in an outbox file; -1 while its creator has not made the table yet."""
    with sqlite3.connect(path) as db:
        try:
            return int(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
        except sqlite3.OperationalError:  # the file exists a moment before its table
            return -1


def test_publisher_killed_mid_drain_then_restarted_still_exactly_1000(tmp_path: Path):
    stack = start_stack(tmp_path)
    try:
        port = stack.broker.port
        stack.broker.stop()  # queue everything first, so the kill lands in the middle of a drain
        key_file = tmp_path / "rs-bp.pem"
        write_private_key(stack.keys["RS-BP"][0], key_file)
        env = {
            **os.environ,
            **stack.env(),
            "WBX_PUBLISHER_OUTBOX_DIR": str(tmp_path / "outbox"),
            "WBX_PUBLISHER_BATCH_SIZE": "5",
            "WBX_PUBLISHER_RETRY_MAX": "0.3",
        }
        script = textwrap.dedent(f"""
            import asyncio, sys
            from pathlib import Path
            from producers.publisher import Publisher
            async def main():
                async with Publisher.open("RS-BP", Path({str(key_file)!r})) as publisher:
                    for _ in range(1000):
                        await publisher.publish({json.dumps(EVENT)})
                    await publisher.flush(timeout=120)
            asyncio.run(main())
        """)
        child = subprocess.Popen(
            [sys.executable, "-c", script],
            env=env,
            start_new_session=True,
        )
        outbox_file = tmp_path / "outbox" / "RS-BP.sqlite3"
        deadline = time.monotonic() + 60
        while not (outbox_file.exists() and _backlog(outbox_file) == 1000):
            assert time.monotonic() < deadline and child.poll() is None, "events were not queued"
            time.sleep(0.05)
        stack.broker = EmbeddedBroker(port=port)
        stack.broker.start()
        kafka = KafkaSettings(bootstrap=stack.bootstrap, idempotence=False)
        asyncio.run(apply_topics(kafka, reference_and_plan(kafka)[1]))
        while _backlog(outbox_file) == 1000:
            assert time.monotonic() < deadline and child.poll() is None, "the drain never started"
            time.sleep(0.005)
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        backlog = _backlog(outbox_file)
        assert 0 < backlog < 1000, f"not killed mid-drain (backlog {backlog})"
        stack.start_worker()
        drained = subprocess.run(
            [
                sys.executable,
                "-m",
                "wbx",
                "outbox",
                "drain",
                "--agency",
                "RS-BP",
                "--key",
                str(key_file),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert drained.returncode == 0, drained.stderr

        async def all_verified() -> list[str] | None:
            got = await _verified_ids(stack)
            return got if len(set(got)) >= 1000 else None

        asyncio.run(wait_until(all_verified, 90, "1,000 verified events"))
        time.sleep(2)  # let any straggler duplicate arrive before counting
        got = asyncio.run(_verified_ids(stack))
        assert len(got) == len(set(got)) == 1000
    finally:
        stop_stack(stack)
