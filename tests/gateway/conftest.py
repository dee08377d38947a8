"""A gateway service that is not connected to Kafka, for route and service tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.service import GatewayService
from gateway.settings import GatewaySettings
from schemas.derived import AlertAction
from schemas.keys import KeyRegistry
from schemas.settings import ContractSettings, KafkaSettings
from schemas.topics import ALERT_ACKS
from tests.factories import AgencyKey, agency_key


class RecordingService(GatewayService):
    """The gateway service with its Kafka writes recorded: alert actions in `sent`, audit
    records and checkpoints in `audited` (topic, key, value)."""

    sent: list[AlertAction]
    audited: list[tuple[str, bytes, bytes]]

    async def _send(self, topic: str, key: bytes, value: bytes) -> None:
        if topic == ALERT_ACKS:
            self.sent.append(AlertAction.model_validate_json(value))
        else:
            self.audited.append((topic, key, value))


@pytest.fixture
def key() -> AgencyKey:
    """RS-BP's key, valid for the last year."""
    return agency_key("RS-BP", datetime.now(UTC) - timedelta(days=365))


@pytest.fixture
def clock() -> list[datetime]:
    """The service's clock: `clock[0]`, moved by the test (default: real time when empty)."""
    return []


@pytest.fixture
def service(tmp_path: Path, key: AgencyKey, clock: list[datetime]) -> RecordingService:
    """A real service, never started: views filled by the test, outbox on disk, no broker."""
    KeyRegistry([key[1]]).save(tmp_path / "keys.json")
    service = RecordingService(
        GatewaySettings(
            token_key_file=tmp_path / "token.pem",
            audit_key_file=tmp_path / "audit-key.pem",
            outbox_dir=tmp_path / "outbox",
        ),
        KafkaSettings(bootstrap="127.0.0.1:1", idempotence=False),
        ContractSettings(key_registry=tmp_path / "keys.json"),
        clock=lambda: clock[0] if clock else datetime.now(UTC),
    )
    service.sent = []
    service.audited = []
    return service
