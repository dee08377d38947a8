"""The live key registry: signed key changes on `wbx.keys.v1`, merged into a KeyRegistry.

Each record is one key's whole entry after a change (a new key, a retirement, a revocation),
keyed by key id on a compacted topic and signed by the platform's registry key, whose public
half every component has in its configuration (`WBX_REGISTRY_PUBLIC_KEY`). Whoever can write
to the topic but does not hold the registry key can add nothing.

Merging is monotone, so order, duplicates and replays cannot undo a change: a key is added
once with fixed agency, public key and start; its end (`valid_until`) and its revocation
time only ever move earlier. A replayed old "add" after a revocation changes nothing.

`follow` is the one piece of Kafka I/O here: the worker and the gateway both need it and
may not import each other. It reads the topic from the beginning, then follows it, and
records how fresh the registry is, so the Verify stage can wait until every change made
before a record's receipt time has been read (then a replay gives the same verdict).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Literal

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import AwareDatetime, ConfigDict, Field, ValidationError

from schemas import strict_json
from schemas.errors import KeyRegistryError
from schemas.keys import KeyEntry, KeyRegistry
from schemas.settings import ContractSettings, KafkaSettings
from schemas.signed import REGISTRY_PURPOSE, SignedRecord, key_id
from schemas.signed import parse_public_key as parse_key_text
from schemas.topics import KEYS

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    """What reading one registry record did (the label of the components' metric)."""

    APPLIED = "applied"
    UNCHANGED = "unchanged"  # a duplicate or a replay: nothing new
    UNSIGNED = "unsigned"  # not signed by the registry key (or no key configured)
    CONFLICT = "conflict"  # signed, but contradicts the key as registered
    UNREADABLE = "unreadable"


class KeyChange(SignedRecord):
    """One signed change of the registry: the key's whole entry after it."""

    model_config = ConfigDict(extra="forbid")

    change: Literal["add", "retire", "revoke"]
    entry: KeyEntry
    at: AwareDatetime = Field(description="when the change was made")


def registry_key_id(public: Ed25519PublicKey) -> str:
    """The id of a registry key: `registry.` and 12 hex digits of its SHA-256."""
    return key_id(public, REGISTRY_PURPOSE)


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A registry public key from its base64url text; KeyRegistryError naming the fault."""
    try:
        return parse_key_text(text)
    except ValueError as exc:
        raise KeyRegistryError(f"WBX_REGISTRY_PUBLIC_KEY is {exc}") from None


def sign_change(
    change: Literal["add", "retire", "revoke"],
    entry: KeyEntry,
    private: Ed25519PrivateKey,
    at: datetime | None = None,
) -> bytes:
    """A registry record: the change signed with the registry's private key."""
    unsigned = KeyChange(
        change=change,
        entry=entry,
        at=at or datetime.now(UTC),
        signer=registry_key_id(private.public_key()),
    )
    return unsigned.signed_with(private).model_dump_json().encode()


def read_change(raw: bytes, trusted: Ed25519PublicKey | None) -> KeyChange | Outcome:
    """The change in a record if the registry key signed it, else why not."""
    try:
        change = KeyChange.model_validate(strict_json.loads(raw))
    except (strict_json.NotIJsonError, ValidationError):
        return Outcome.UNREADABLE
    if trusted is None or not change.signature_valid(trusted):
        return Outcome.UNSIGNED
    return change


def merge(registry: KeyRegistry, change: KeyChange) -> Outcome:
    """Apply a verified change monotonically (see the module docstring)."""
    new = change.entry
    current = registry.get(new.kid)
    if current is None:
        registry.add(new)
        return Outcome.APPLIED
    fixed = ("agency", "public_key", "valid_from", "alg")
    if any(getattr(current, name) != getattr(new, name) for name in fixed):
        return Outcome.CONFLICT
    until = _earliest(current.valid_until, new.valid_until)
    revoked_at = _earliest(current.revoked_at, new.revoked_at)
    merged = current.model_copy(
        update={
            "valid_until": until,
            "revoked": current.revoked or new.revoked,
            "revoked_at": revoked_at,
        }
    )
    if merged == current:
        return Outcome.UNCHANGED
    registry.replace(merged)
    return Outcome.APPLIED


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


class RegistryLog:
    """A KeyRegistry (seeded from the file) kept in step with `wbx.keys.v1`."""

    def __init__(
        self,
        registry: KeyRegistry,
        trusted: Ed25519PublicKey | None,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.registry = registry
        self.trusted = trusted
        self.on_outcome = on_outcome
        self.loaded = asyncio.Event()
        self.fresh_as_of: datetime | None = None
        self._fresher = asyncio.Condition()
        # Set when a wait timed out: until the feed moves again, nobody waits (a stalled
        # feed must cost one wait, not one per record).
        self._stalled = False

    @classmethod
    def from_settings(
        cls, contract: ContractSettings, on_outcome: Callable[[Outcome], None] | None = None
    ) -> RegistryLog:
        """The seed file's keys, to be kept in step with the topic under the configured key."""
        trusted = None
        if contract.registry_public_key:
            trusted = parse_public_key(contract.registry_public_key)
        else:
            logger.warning(
                "WBX_REGISTRY_PUBLIC_KEY is not set: key changes on %s are ignored and only "
                "the seed file %s counts",
                KEYS,
                contract.key_registry,
            )
        return cls(KeyRegistry.load(contract.key_registry), trusted, on_outcome)

    def apply(self, raw: bytes | None, where: str = KEYS) -> Outcome:
        """Read one record and merge it; what it did is logged and counted, never raised."""
        if raw is None:
            return Outcome.UNCHANGED  # a tombstone: registry entries are never deleted
        read = read_change(raw, self.trusted)
        outcome = read if isinstance(read, Outcome) else merge(self.registry, read)
        if outcome is Outcome.APPLIED and isinstance(read, KeyChange):
            logger.info(
                "key registry: %s %s of %s (from %s)",
                read.change,
                read.entry.kid,
                read.entry.agency,
                where,
            )
        elif outcome in (Outcome.UNSIGNED, Outcome.CONFLICT, Outcome.UNREADABLE):
            logger.warning("key registry: a record on %s was ignored (%s)", where, outcome.value)
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        return outcome

    async def mark_fresh(self, moment: datetime) -> None:
        """Record that every change made up to `moment` has been read."""
        async with self._fresher:
            self.fresh_as_of = moment
            self._stalled = False
            self._fresher.notify_all()

    async def wait_fresh(self, received_at: datetime, timeout: float) -> bool:
        """Wait until changes made before `received_at` have been read (False on timeout)."""
        if self.fresh_as_of is not None and self.fresh_as_of >= received_at:
            return True
        if self._stalled:
            return False
        async with self._fresher:
            try:
                await asyncio.wait_for(
                    self._fresher.wait_for(
                        lambda: self.fresh_as_of is not None and self.fresh_as_of >= received_at
                    ),
                    timeout,
                )
            except TimeoutError:
                self._stalled = True
                return False
        return True


async def follow(
    kafka: KafkaSettings,
    log: RegistryLog,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    interval: timedelta = timedelta(milliseconds=50),
) -> None:
    """Read `wbx.keys.v1` from the beginning, then follow it, until cancelled.

    After each fetch that reaches the end of the topic, the registry is fresh as of the
    moment the end was asked for; a broker outage is retried, and freshness simply stops
    advancing meanwhile (the Verify stage waits, then goes on with what it has).
    """
    while True:
        try:
            await _follow(kafka, log, clock, interval.total_seconds())
        except asyncio.CancelledError:
            raise
        except (KafkaError, OSError) as exc:
            logger.warning("key registry feed lost the broker (%s); retrying", exc)
            await asyncio.sleep(1.0)


async def _follow(
    kafka: KafkaSettings, log: RegistryLog, clock: Callable[[], datetime], interval: float
) -> None:
    # A short fetch wait (`reader`) matters here: the end-offsets question of each round
    # queues behind the fetch in flight, so a held fetch would hold freshness too.
    consumer = kafka.reader()
    await consumer.start()
    try:
        await consumer.topics()
        found = sorted(consumer.partitions_for_topic(KEYS) or ())
        partitions = [TopicPartition(KEYS, p) for p in found]
        if not partitions:
            raise KafkaError(f"topic {KEYS} does not exist (run `wbx topics apply`)")
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        while True:
            asked = clock()
            end = await consumer.end_offsets(partitions)
            while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
                batch = await consumer.getmany(*partitions, timeout_ms=1000)
                for messages in batch.values():
                    for message in messages:
                        log.apply(message.value, f"{KEYS}@{message.offset}")
            # Everything appended before `asked` has been read (the fetch that reaches the
            # end of the embedded broker's last batch brings the rest of that batch).
            await log.mark_fresh(asked)
            if not log.loaded.is_set():
                log.loaded.set()
                logger.info("key registry loaded: %d keys", len(log.registry.entries()))
            batch = await consumer.getmany(*partitions, timeout_ms=int(interval * 1000))
            for messages in batch.values():
                for message in messages:
                    log.apply(message.value, f"{KEYS}@{message.offset}")
    finally:
        await consumer.stop()
