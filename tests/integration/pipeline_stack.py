"""A whole WBX stack for integration tests: broker, topics, key registry, worker."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from schemas.keys import KeyEntry, KeyRegistry, new_key_pair, write_private_key
from schemas.reading import read_to_end
from schemas.settings import ContractSettings, KafkaSettings
from schemas.signed import public_key_text
from schemas.topics import VERIFIED
from tests.factories import envelope, record, signed
from tests.integration.kafka_io import WorkerProcess
from wbx.broker import EmbeddedBroker
from wbx.topics import apply_topics, reference_and_plan

REPO = Path(__file__).resolve().parents[2]
SECTIONS = ["BA-ME", "AL-ME", "MK-RS", "ME-RS", "HR-RS", "AL-XK"]
PCCS = ["pcc-plav", "pcc-trebinje"]
AGENCIES = ["BA-BP", "RS-BP", "ME-BP", "AL-BP", "MK-BP", "XK-BP"]


@dataclass
class Stack:
    """Broker, keys and worker of one test module."""

    broker: EmbeddedBroker
    tmp: Path
    keys: dict[str, tuple[Ed25519PrivateKey, KeyEntry]] = field(default_factory=dict)
    worker: WorkerProcess | None = None
    registry_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    receipt_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    overrides: dict[str, str] = field(default_factory=dict)
    """Extra worker settings of one test module."""

    @property
    def registry_public_key(self) -> str:
        """The registry key's public half, as components are configured with it."""
        return public_key_text(self.registry_key.public_key())

    def contract(self) -> ContractSettings:
        """Contract settings of a component of this stack (seed file, registry key)."""
        return ContractSettings(
            key_registry=self.tmp / "keys.json",
            registry_public_key=self.registry_public_key,
            receipt_public_key=public_key_text(self.receipt_key.public_key()),
            registry_private_key=self.tmp / "registry.pem",
            private_key_dir=self.tmp / "private-keys",
            retention_keys_dir=self.tmp / "retention-keys",
        )

    @property
    def bootstrap(self) -> str:
        """Where the broker listens."""
        return self.broker.bootstrap

    def env(self) -> dict[str, str]:
        """Environment of a worker for this stack."""
        return {
            "WBX_KAFKA_BOOTSTRAP": self.bootstrap,
            "WBX_KAFKA_IDEMPOTENCE": "false",
            "WBX_KEY_REGISTRY": str(self.tmp / "keys.json"),
            "WBX_REGISTRY_PUBLIC_KEY": self.registry_public_key,
            "WBX_REGISTRY_PRIVATE_KEY": str(self.tmp / "registry.pem"),
            "WBX_RECEIPT_PUBLIC_KEY": public_key_text(self.receipt_key.public_key()),
            "WBX_WORKER_RECEIPT_KEY_FILE": str(self.tmp / "receipt-key.pem"),
            "WBX_PRIVATE_KEY_DIR": str(self.tmp / "private-keys"),
            "WBX_RETENTION_KEYS_DIR": str(self.tmp / "retention-keys"),
            "WBX_WORKER_METRICS_PORT": "0",
            "WBX_WORKER_REBALANCE_TIMEOUT": "1",
            "WBX_WORKER_STATS_FLUSH_INTERVAL": "0.3",
            # A partition left unread shows in the worker's log within a test's patience.
            "WBX_WORKER_STALL_AFTER": "10",
            "WBX_WORKER_DATA_DIR": str(self.tmp / "worker"),
            # pragma: allowlist nextline secret
            "WBX_WORKER_PSEUDONYM_SECRET": "integration-test-secret-0123456789",
            **self.overrides,
        }

    async def read_verified(self) -> list[bytes]:
        """The envelopes on `wbx.verified.v1`, opened (they are sealed under their deadline
        day's key) as the stack's own components open them."""
        shredder = self.contract().shredder()
        today = datetime.now(UTC).date()
        records = await read_to_end(KafkaSettings(bootstrap=self.bootstrap), [VERIFIED])
        return [shredder.open_record(r.value, today, VERIFIED) for r in records]

    def wbx(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the `wbx` command line against this stack, as an operator would."""
        return subprocess.run(
            [sys.executable, "-m", "wbx", *args],
            env={**os.environ, **self.env()},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def start_worker(self) -> WorkerProcess:
        """Start a worker process on this stack."""
        self.worker = WorkerProcess(self.env(), self.tmp / "worker.log")
        self.worker.start()
        return self.worker

    def signed(
        self,
        kind: str,
        data: dict[str, Any],
        agency: str = "BA-BP",
        *,
        time: datetime | None = None,
        event_id: str | None = None,
        overrides: dict[str, Any] | None = None,
        key_of: str | None = None,
    ) -> bytes:
        """A signed envelope (record value) of `kind` with `data`, by `agency`."""
        obj = envelope(
            kind,
            data,
            agency,
            time=time or datetime.now(UTC) - timedelta(minutes=1),
            event_id=event_id,
            overrides=overrides,
        )
        return record(signed(obj, self.keys[key_of or agency]))

    def mixed_stream(self, count: int) -> tuple[list[tuple[bytes, bytes]], int]:
        """`count` (key, value) ingest records of a realistic mix and how many deaths it has:
        every 25th is a death at AL-ME (one alert each at PCC Plav), the rest apprehensions
        across six sections with a distinct document number each."""
        when = datetime.now(UTC) - timedelta(minutes=30)
        records, deaths = [], 0
        for i in range(count):
            if i % 25 == 0:
                deaths += 1
                data: dict[str, Any] = {"border_section": "AL-ME", "count": 1}
                records.append(
                    (b"AL-ME", self.signed("death_or_missing_person", data, "ME-BP", time=when))
                )
                continue
            section = SECTIONS[i % len(SECTIONS)]
            person: dict[str, Any] = {
                "nationality": "SYR",
                "sex": "female",
                "document_number": f"D{i}",
            }
            if i % 40 == 1:
                person["vulnerabilities"] = ["uam"]
            data = {
                "border_section": section,
                "direction": "entry",
                "group_size": 2,
                "persons": [person],
            }
            records.append(
                (section.encode(), self.signed("apprehension", data, "BA-BP", time=when))
            )
        return records, deaths


def start_stack(
    tmp: Path, extra_keys: dict[str, KeyEntry] | None = None, broker: EmbeddedBroker | None = None
) -> Stack:
    """Start a broker (a new one unless given), apply the topic plan and write a key
    registry for every agency."""
    broker = broker or EmbeddedBroker()
    broker.start()
    stack = Stack(broker, tmp)
    settings = KafkaSettings(bootstrap=broker.bootstrap)
    plan = reference_and_plan(settings)[1]
    asyncio.run(apply_topics(settings, plan))
    since = datetime.now(UTC) - timedelta(days=365)
    for agency in AGENCIES:
        stack.keys[agency] = new_key_pair(agency, valid_from=since)
    registry = KeyRegistry([entry for _, entry in stack.keys.values()])
    for entry in (extra_keys or {}).values():
        registry.add(entry)
    registry.save(tmp / "keys.json")
    write_private_key(stack.registry_key, tmp / "registry.pem")
    write_private_key(stack.receipt_key, tmp / "receipt-key.pem")
    return stack


def stop_stack(stack: Stack) -> None:
    """Stop the worker and the broker (no process is left)."""
    if stack.worker is not None:
        stack.worker.stop()
    stack.broker.stop()
