"""Several instances on one host: two workers and two gateways started with the default
settings either run side by side or refuse at once, naming the setting to change."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from schemas.topics import INGEST
from tests.integration.kafka_io import REPO, WorkerProcess, produce, wait_until
from tests.integration.pipeline_stack import Stack, start_stack, stop_stack
from wbx.broker import free_port

pytestmark = pytest.mark.integration

EVENT = {"border_section": "MK-RS", "count": 1}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):
    stack = start_stack(tmp_path_factory.mktemp("instances"))
    yield stack
    stop_stack(stack)


def _env(stack: Stack, **settings: str) -> dict[str, str]:
    env = {**stack.env(), **settings}
    # The defaults of a host: the same data directory and metrics port for every worker.
    for name in ("WBX_WORKER_DATA_DIR", "WBX_WORKER_METRICS_PORT"):
        if name not in settings:
            env.pop(name, None)
    return env


async def test_a_second_worker_with_the_default_port_names_the_setting_then_both_run(
    stack: Stack,
):
    port = str(free_port())
    first = WorkerProcess(_env(stack, WBX_WORKER_METRICS_PORT=port), stack.tmp / "w1.log")
    second = WorkerProcess(_env(stack, WBX_WORKER_METRICS_PORT=port), stack.tmp / "w2.log")
    first.start()
    try:

        async def serving() -> bool:
            return "metrics, /healthz and /readyz" in first.log()

        await wait_until(serving, 60, "worker 1 serving its metrics")
        second.start()
        assert second.process is not None
        assert second.process.wait(timeout=60) != 0
        assert "WBX_WORKER_METRICS_PORT" in second.log() and "Traceback" not in second.log()
        # Given its own port (the data directory stays the default one), it joins the group.
        second = WorkerProcess(
            _env(stack, WBX_WORKER_METRICS_PORT=str(free_port())), stack.tmp / "w3.log"
        )
        second.start()
        ids = [str(uuid.uuid4()) for _ in range(20)]
        records = [
            (b"MK-RS", stack.signed("death_or_missing_person", EVENT, "MK-BP", event_id=i))
            for i in ids
        ]
        await produce(stack.bootstrap, INGEST, records)

        async def all_verified() -> bool:
            verified = b"".join(await stack.read_verified())
            return all(i.encode() in verified for i in ids)

        await wait_until(all_verified, 90, "every event through the two workers")
        assert second.process is not None and second.process.poll() is None
        assert first.process is not None and first.process.poll() is None
    finally:
        first.stop()
        second.stop()


def test_a_second_gateway_is_told_which_port_and_which_outbox_to_change(
    stack: Stack, tmp_path: Path
):
    env = {**os.environ, **stack.env(), "WBX_GATEWAY_TOKEN_KEY_FILE": str(tmp_path / "t.pem"),
           "WBX_GATEWAY_AUDIT_KEY_FILE": str(tmp_path / "a.pem"),
           "WBX_GATEWAY_OUTBOX_DIR": str(tmp_path / "outbox")}  # fmt: skip
    port = free_port()
    first = subprocess.Popen(
        [sys.executable, "-m", "wbx", "gateway", "--port", str(port)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:

        def ready() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    return True
            except OSError:
                return False

        deadline_tries = 120
        while not ready() and deadline_tries:
            assert first.poll() is None, first.stdout.read() if first.stdout else ""
            deadline_tries -= 1
            time.sleep(0.5)
        assert ready()

        def second(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "wbx", "gateway", *args], cwd=REPO, env=env,
                capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip

        same_port = second("--port", str(port))
        assert same_port.returncode != 0
        assert f"port {port} for the gateway is already in use" in same_port.stderr
        assert "WBX_GATEWAY_PORT" in same_port.stderr
        same_outbox = second("--port", str(free_port()))
        assert same_outbox.returncode != 0
        assert "WBX_GATEWAY_OUTBOX_DIR" in same_outbox.stderr
        assert "Traceback" not in same_outbox.stderr
    finally:
        first.terminate()
        first.wait(timeout=30)
