"""The forwarder's group commit: concurrent requests share a transaction, each hears its own."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    NotLeaderForPartitionError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
    UnsupportedVersionError,
)

from producers.outbox import Outbox, OutboxFullError
from producers.publisher import Forwarder, refusal
from schemas.envelope import Envelope
from schemas.settings import KafkaSettings
from tests.factories import agency_key, envelope, scram_over_tls, signed

KEY = agency_key("RS-BP", datetime.now(UTC) - timedelta(days=1))


def _id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def _items(*names: str) -> list[tuple[dict[str, Any], Envelope]]:
    items = []
    for name in names:
        body = signed(envelope(event_id=_id(name)), KEY)
        items.append((body, Envelope.model_validate(body)))
    return items


def _forwarder(tmp_path: Path, max_events: int) -> Forwarder:
    outbox = Outbox(tmp_path / "o.sqlite3", max_events)
    return Forwarder(outbox, KafkaSettings(bootstrap="127.0.0.1:1", idempotence=False))


async def test_concurrent_callers_share_transactions_and_each_hears_of_its_own_events(
    tmp_path: Path,
):
    forwarder = _forwarder(tmp_path, 100)
    commits = 0
    put_many = forwarder.outbox.put_many

    def counting(rows: list[tuple[str, bytes, bytes, int | None]]) -> list[bool]:
        nonlocal commits
        commits += 1
        return put_many(rows)

    forwarder.outbox.put_many = counting  # type: ignore[method-assign]
    calls = [forwarder.queue(_items(f"e-{n}", "shared")) for n in range(10)]
    results = await asyncio.gather(*calls)
    # Every caller gets its own events back, in order; "shared" is new exactly once.
    expected = [[_id(f"e-{n}"), _id("shared")] for n in range(10)]
    assert [[q.event_id for q in r] for r in results] == expected
    assert [q.new for r in results for q in r].count(False) == 9
    assert all(r[0].new for r in results)
    assert forwarder.outbox.backlog() == 11
    assert commits < 10  # callers that arrived during a write shared the next one


async def test_callers_that_do_not_fit_together_are_queued_each_all_or_none(tmp_path: Path):
    forwarder = _forwarder(tmp_path, 5)
    calls = [forwarder.queue(_items(f"a-{n}", f"b-{n}")) for n in range(3)]
    results = await asyncio.gather(*calls, return_exceptions=True)
    # Six events, room for five: two callers' events are queued, the third is told why.
    assert [isinstance(r, list) for r in results] == [True, True, False]
    assert isinstance(results[2], OutboxFullError)
    assert "limit of 5" in str(results[2])
    assert forwarder.outbox.backlog() == 4  # nothing half-queued


def test_each_refusal_of_the_broker_names_the_principal_and_what_to_change(tmp_path: Path):
    kafka = scram_over_tls(tmp_path).model_copy(update={"idempotence": True})
    acl = refusal(TopicAuthorizationFailedError(), kafka)
    assert acl is not None and "'wbx-worker' writing wbx.ingest.v1" in str(acl)
    assert "wbx topics render --format acl" in str(acl)
    idempotent = refusal(ClusterAuthorizationFailedError(), kafka)
    assert idempotent is not None and "IdempotentWrite" in str(idempotent)
    assert "WBX_KAFKA_IDEMPOTENCE=false" in str(idempotent)
    credentials = refusal(SaslAuthenticationFailed(), kafka)
    assert credentials is not None and "WBX_KAFKA_SASL_PASSWORD" in str(credentials)
    unsupported = refusal(UnsupportedVersionError(), kafka, starting=True)
    assert unsupported is not None and "does not support them" in str(unsupported)


def test_what_retrying_can_cure_is_not_a_refusal(tmp_path: Path):
    kafka = scram_over_tls(tmp_path).model_copy(update={"idempotence": True})
    assert refusal(NotLeaderForPartitionError(), kafka) is None  # a leader moves: retry
    plain = kafka.model_copy(update={"idempotence": False})
    assert refusal(ClusterAuthorizationFailedError(), plain) is None  # not about idempotence
    assert refusal(UnsupportedVersionError(), plain, starting=True) is None
