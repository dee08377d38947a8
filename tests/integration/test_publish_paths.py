"""Publishing through the library, `wbx publish` and `wbx import-csv`: valid signed envelopes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from producers.publisher import Publisher
from producers.settings import PublisherSettings
from producers.sync import SyncPublisher
from schemas.keys import KeyRegistry, write_private_key
from schemas.settings import KafkaSettings
from schemas.topics import INGEST
from schemas.verification import Verifier
from tests.integration.kafka_io import read_topic
from tests.integration.pipeline_stack import start_stack, stop_stack

pytestmark = pytest.mark.integration
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "csv" / "apprehension.csv"
EVENT = {"type": "death_or_missing_person", "border_section": "MK-RS", "count": 1}


def test_library_cli_and_csv_publish_valid_signed_envelopes(tmp_path: Path):
    stack = start_stack(tmp_path)
    try:
        key_file = tmp_path / "rs-bp.pem"
        write_private_key(stack.keys["RS-BP"][0], key_file)
        kafka = KafkaSettings(bootstrap=stack.bootstrap, idempotence=False)
        settings = PublisherSettings(outbox_dir=tmp_path / "outbox")

        async def with_library() -> str:
            async with Publisher.open("RS-BP", key_file, kafka, settings) as publisher:
                queued = await publisher.publish(EVENT)
                assert await publisher.flush(timeout=30)
                return queued.event_id

        ids = {asyncio.run(with_library())}
        with SyncPublisher("RS-BP", key_file, kafka, settings) as publisher:
            ids.add(publisher.publish(EVENT).event_id)
            assert publisher.flush(timeout=30)

        env = {
            **os.environ,
            **stack.env(),
            "WBX_PUBLISHER_OUTBOX_DIR": str(tmp_path / "cli-outbox"),
        }
        lines = tmp_path / "events.jsonl"
        lines.write_text(json.dumps(EVENT) + "\n" + json.dumps({**EVENT, "count": 0}) + "\n")
        cli = subprocess.run(
            [
                sys.executable,
                "-m",
                "wbx",
                "publish",
                "--agency",
                "RS-BP",
                "--key",
                str(key_file),
                "--no-progress",
                str(lines),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert cli.returncode == 1, cli.stderr  # one line was rejected
        assert "sent 1" in cli.stdout and "rejected line 2: count" in cli.stderr
        imported = subprocess.run(
            [
                sys.executable,
                "-m",
                "wbx",
                "import-csv",
                "--agency",
                "RS-BP",
                "--key",
                str(key_file),
                "--type",
                "apprehension",
                str(FIXTURE),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert imported.returncode == 1 and "rejected line 5" in imported.stderr
        assert "4 rows read, 2 events published" in imported.stdout

        records = asyncio.run(read_topic(stack.bootstrap, INGEST))
        verifier = Verifier(KeyRegistry.load(tmp_path / "keys.json"))
        envelopes = []
        for record in records:
            assert dict(record.headers)["content-type"] == b"application/cloudevents+json"
            verdict = verifier.verify_bytes(record.value)
            assert verdict.ok, verdict.detail
            envelopes.append(json.loads(record.value))
        assert ids <= {e["id"] for e in envelopes}
        kinds = sorted(e["type"].rsplit(".", 1)[1] for e in envelopes)
        assert kinds == ["apprehension", "apprehension", *["death_or_missing_person"] * 3]
    finally:
        stop_stack(stack)
