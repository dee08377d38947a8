"""Fixtures for integration tests: one embedded broker per session, with the topic plan."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemas.settings import KafkaSettings
from schemas.topics import TopicSpec
from wbx.broker import EmbeddedBroker, free_port
from wbx.topics import apply_topics, reference_and_plan

REPO = Path(__file__).resolve().parents[2]
TOPICS_FILE = REPO / "infra" / "topics.toml"
PCC_IDS = ("pcc-trebinje", "pcc-plav")


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
    try:
        asyncio.run(apply_topics(kafka_settings(broker.bootstrap), topic_plan))
        yield broker.bootstrap
    finally:
        broker.stop()
    assert process_gone(pid), f"embedded broker (pid {pid}) still running after stop()"
