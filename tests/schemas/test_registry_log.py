"""The live key registry's records: only the registry key's changes apply, and never backwards."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from schemas.errors import KeyRegistryError
from schemas.keys import KeyRegistry, new_key_pair
from schemas.registry_log import (
    Outcome,
    RegistryLog,
    parse_public_key,
    sign_change,
)
from schemas.signed import public_key_text
from tests.factories import NOW

REGISTRY_KEY = Ed25519PrivateKey.generate()


def log_of(registry: KeyRegistry | None = None) -> tuple[RegistryLog, list[Outcome]]:
    seen: list[Outcome] = []
    return RegistryLog(registry or KeyRegistry([]), REGISTRY_KEY.public_key(), seen.append), seen


def test_a_change_signed_by_the_registry_key_applies_and_is_counted():
    log, seen = log_of()
    _, entry = new_key_pair("RS-BP", valid_from=NOW)
    assert log.apply(sign_change("add", entry, REGISTRY_KEY)) is Outcome.APPLIED
    assert log.registry.get(entry.kid) == entry
    assert log.apply(sign_change("add", entry, REGISTRY_KEY)) is Outcome.UNCHANGED  # again
    assert seen == [Outcome.APPLIED, Outcome.UNCHANGED]


def test_a_record_not_signed_by_the_registry_key_is_ignored_and_counted():
    log, seen = log_of()
    _, entry = new_key_pair("RS-BP", valid_from=NOW)
    intruder = Ed25519PrivateKey.generate()
    assert log.apply(sign_change("add", entry, intruder)) is Outcome.UNSIGNED
    forged = json.loads(sign_change("add", entry, REGISTRY_KEY))
    _, other = new_key_pair("RS-BP", valid_from=NOW)
    forged["entry"]["public_key"] = other.public_key  # a signed record, altered
    assert log.apply(json.dumps(forged).encode()) is Outcome.UNSIGNED
    assert log.apply(b"{not json") is Outcome.UNREADABLE
    untrusting = RegistryLog(KeyRegistry([]), None)
    assert untrusting.apply(sign_change("add", entry, REGISTRY_KEY)) is Outcome.UNSIGNED
    assert log.registry.entries() == [] and untrusting.registry.entries() == []
    assert seen == [Outcome.UNSIGNED, Outcome.UNSIGNED, Outcome.UNREADABLE]


def test_a_replayed_old_record_cannot_undo_a_revocation_or_extend_a_key():
    log, _ = log_of()
    _, entry = new_key_pair("RS-BP", valid_from=NOW - timedelta(days=9))
    added = sign_change("add", entry, REGISTRY_KEY)
    retired = entry.model_copy(update={"valid_until": NOW - timedelta(days=2)})
    revoked = retired.model_copy(update={"revoked": True, "revoked_at": NOW - timedelta(days=1)})
    later_end = entry.model_copy(update={"valid_until": NOW})
    for record in (added, sign_change("retire", retired, REGISTRY_KEY)):
        assert log.apply(record) is Outcome.APPLIED
    assert log.apply(sign_change("revoke", revoked, REGISTRY_KEY)) is Outcome.APPLIED
    assert log.apply(added) is Outcome.UNCHANGED
    assert log.apply(sign_change("retire", later_end, REGISTRY_KEY)) is Outcome.UNCHANGED
    assert log.registry.get(entry.kid) == revoked
    swapped = entry.model_copy(update={"public_key": new_key_pair("RS-BP")[1].public_key})
    assert log.apply(sign_change("add", swapped, REGISTRY_KEY)) is Outcome.CONFLICT
    assert log.registry.get(entry.kid) == revoked


def test_the_order_of_changes_does_not_matter():
    _, entry = new_key_pair("ME-BP", valid_from=NOW - timedelta(days=9))
    records = [
        sign_change("add", entry, REGISTRY_KEY),
        sign_change("retire", entry.model_copy(update={"valid_until": NOW}), REGISTRY_KEY),
        sign_change("revoke", entry.model_copy(update={"revoked": True, "revoked_at": NOW}),
                    REGISTRY_KEY),
    ]  # fmt: skip
    forward, _ = log_of()
    backward, _ = log_of()
    for record in records:
        forward.apply(record)
    for record in reversed(records):
        backward.apply(record)
    assert forward.registry.get(entry.kid) == backward.registry.get(entry.kid)


def test_the_registry_public_key_is_read_from_its_text_or_refused_with_the_setting_named():
    text = public_key_text(REGISTRY_KEY.public_key())
    assert public_key_text(parse_public_key(text)) == text
    with pytest.raises(KeyRegistryError, match="WBX_REGISTRY_PUBLIC_KEY"):
        parse_public_key("not-a-key")


async def test_waiting_for_freshness_returns_once_the_feed_has_read_past_the_receipt_time():
    log, _ = log_of()
    assert not await log.wait_fresh(NOW, timeout=0.05)  # nothing read yet
    waiting = asyncio.create_task(log.wait_fresh(NOW, timeout=5))
    await log.mark_fresh(NOW - timedelta(seconds=1))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    await log.mark_fresh(NOW)
    assert await waiting


async def test_a_stalled_feed_costs_one_wait_not_one_per_record():
    log, _ = log_of()
    assert not await log.wait_fresh(NOW, timeout=0.05)
    # No second wait while it is stalled: an hour's wait would not even begin.
    assert not await asyncio.wait_for(log.wait_fresh(NOW, timeout=3_600), 30)
    await log.mark_fresh(NOW)
    assert await log.wait_fresh(NOW, timeout=5)
