"""Fixtures for integration tests: one embedded broker per session, with the topic plan."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.settings import KafkaSettings
from schemas.topics import TopicSpec
from tests.factories import EXACT_PTABLE
from tests.integration.pipeline_stack import Stack, start_stack, stop_stack
from wbx.broker import EmbeddedBroker, free_port
from wbx.topics import apply_topics, reference_and_plan

REPO = Path(__file__).resolve().parents[2]
TOPICS_FILE = REPO / "infra" / "topics.toml"
PCC_IDS = ("pcc-trebinje", "pcc-plav")
SESSION_PROCESSES: set[int] = set()
"""Children meant to outlive a module (the session's broker)."""


def kafka_settings(bootstrap: str) -> KafkaSettings:
    """Settings for a test broker, independent of any WBX_KAFKA_* in the environment."""
    return KafkaSettings(bootstrap=bootstrap, topics_file=TOPICS_FILE, idempotence=False)


def process_gone(pid: int) -> bool:
    """True when no process (not even a zombie) has this pid."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture(scope="session")
def topic_plan() -> list[TopicSpec]:
    """The repository's topic plan expanded for the test PCCs."""
    return reference_and_plan(kafka_settings("127.0.0.1:1"))[1]


@pytest.fixture(scope="session")
def kafka_bootstrap(topic_plan: list[TopicSpec]) -> Iterator[str]:
    """Bootstrap string of an embedded broker with the topic plan applied (whole session)."""
    broker = EmbeddedBroker(port=free_port())
    broker.start()
    pid = broker.pid
    assert pid is not None
    SESSION_PROCESSES.add(pid)
    try:
        asyncio.run(apply_topics(kafka_settings(broker.bootstrap), topic_plan))
        yield broker.bootstrap
    finally:
        broker.stop()
    assert process_gone(pid), f"embedded broker (pid {pid}) still running after stop()"


def _children() -> dict[int, str]:
    """This process's live children (not zombies) and their command lines (Linux /proc)."""
    found = {}
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        # The fields after the command name, which may hold spaces and parentheses.
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == me and state != "Z":
            found[int(entry.name)] = cmdline
    return found


@pytest.fixture(autouse=True, scope="module")
def no_process_left_behind() -> Iterator[None]:
    """Every worker, gateway and broker a test module started is gone when it ends.

    A worker left running keeps reconnecting to its broker's address; a later test's broker
    on the same port would find it in the `wbx` consumer group, holding partitions with
    another test's keys. Such a straggler is killed here, and the module fails naming it.
    """
    before = set(_children())
    yield
    left = {
        pid: cmd
        for pid, cmd in _children().items()
        if pid not in before and pid not in SESSION_PROCESSES
    }
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            if os.getpgid(pid) == pid:  # its own session: take its children along
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
    assert not left, f"processes left running by this module: {left}"


@pytest.fixture
def exact_stack(tmp_path: Path) -> Iterator[Stack]:
    """A broker with the topic plan whose workers count exactly (no statistical noise), for
    tests that prove nothing is lost or counted twice; no worker started."""
    stack = start_stack(tmp_path)
    (tmp_path / "exact-ptable.toml").write_text(EXACT_PTABLE)
    stack.overrides["WBX_PTABLE_FILE"] = str(tmp_path / "exact-ptable.toml")
    yield stack
    stop_stack(stack)
