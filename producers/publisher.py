"""The publisher library: validate, envelope, sign, queue in the outbox, drain to Kafka.

    async with Publisher.open("RS-BP", key_file) as publisher:
        await publisher.publish({"type": "apprehension", "border_section": "MK-RS", ...})
        await publisher.flush()

`publish` returns once the event is durably queued (even with the broker down); a
background task drains the outbox in order, removing each record only after the broker
acknowledged it (acks=all), and retries with back-off while the broker is unreachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    BrokerResponseError,
    ClusterAuthorizationFailedError,
    KafkaError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from prometheus_client import Gauge

from producers.outbox import Outbox, OutboxFullError
from producers.receipts import wait_for_receipt
from producers.settings import PublisherSettings
from schemas.compose import envelope_from_object
from schemas.envelope import CONTENT_TYPE, Envelope, EnvelopeBody
from schemas.errors import BrokerRefusedError
from schemas.keys import key_id, load_private_key
from schemas.receipts import Receipt
from schemas.settings import ContractSettings, KafkaSettings
from schemas.signing import sign_wire
from schemas.topics import INGEST

logger = logging.getLogger(__name__)

BACKLOG = Gauge(
    "wbx_outbox_backlog", "Events queued in the outbox, not yet acknowledged", ["outbox"]
)
HEADERS = [("content-type", CONTENT_TYPE.encode("ascii"))]


@dataclass(frozen=True, slots=True)
class Queued:
    """An event accepted into the outbox."""

    event_id: str
    type: str
    new: bool


def encode_record(signed: Mapping[str, Any]) -> bytes:
    """The Kafka record value of a signed envelope (compact UTF-8 JSON)."""
    return json.dumps(signed, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_Row = tuple[str, bytes, bytes, int | None]


def _rows(
    items: Sequence[tuple[Mapping[str, Any], Envelope]], received_at: datetime | None
) -> list[_Row]:
    """Outbox rows of verified envelopes, stamped with their receipt time if given."""
    timestamp_ms = None if received_at is None else int(received_at.timestamp() * 1000)
    return [
        (f"{envelope.source}|{envelope.id}", envelope.subject.encode(), encode_record(signed),
         timestamp_ms)
        for signed, envelope in items
    ]  # fmt: skip


def _queued(items: Sequence[tuple[Mapping[str, Any], Envelope]], new: list[bool]) -> list[Queued]:
    return [Queued(env.id, env.type, fresh) for (_, env), fresh in zip(items, new, strict=True)]


def _settle(
    future: asyncio.Future[list[bool]],
    new: list[bool] | None = None,
    error: BaseException | None = None,
) -> None:
    """Tell a caller of `Forwarder.queue` (unless it gave up; its rows stay queued)."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(new or [])


class Forwarder:
    """Forwards already-signed envelopes to Kafka through a durable outbox (store-and-forward).

    The gateway uses it as is (it never signs); Publisher adds validation and signing.
    """

    def __init__(
        self,
        outbox: Outbox,
        kafka: KafkaSettings | None = None,
        settings: PublisherSettings | None = None,
        name: str = "forwarder",
    ) -> None:
        self.name = name
        self.outbox = outbox
        self.kafka = kafka or KafkaSettings()
        self.settings = settings or PublisherSettings()
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._producer: AIOKafkaProducer | None = None
        self.connected = False
        # Callers of `queue` waiting for the next shared transaction. Bound: one entry per
        # request in flight (each caller awaits its entry).
        self._pending: list[tuple[list[_Row], asyncio.Future[list[bool]]]] = []
        self.refused: BrokerRefusedError | None = None
        """Set when the broker refuses the producer; cleared once a batch goes through."""
        self._committer: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Start draining the outbox in the background (anything left from earlier runs too)."""
        if self._task is None:
            self._task = asyncio.create_task(self._drain_forever(), name=f"outbox-{self.name}")
            self._wake.set()

    async def stop(self) -> None:
        """Stop draining; queued events stay in the outbox for the next run."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._close_producer()

    def enqueue_signed(
        self,
        signed: Mapping[str, Any],
        *,
        envelope: Envelope | None = None,
        received_at: datetime | None = None,
    ) -> Queued:
        """Queue an already signed envelope (checked against the schema unless `envelope`).

        `received_at` becomes the Kafka record's timestamp: the gateway passes the instant
        it verified the event, so the worker judges the clock checks at that same instant.
        """
        envelope = envelope or Envelope.model_validate(signed)
        return self.enqueue_verified([(signed, envelope)], received_at=received_at)[0]

    def enqueue_verified(
        self,
        items: Sequence[tuple[Mapping[str, Any], Envelope]],
        *,
        received_at: datetime | None = None,
    ) -> list[Queued]:
        """Queue signed envelopes already checked against the schema, all or none (raises
        `OutboxFullError` when they would not all fit), with one sync to disk for all."""
        new = self.outbox.put_many(_rows(items, received_at))
        self._queued()
        return _queued(items, new)

    async def queue(
        self,
        items: Sequence[tuple[Mapping[str, Any], Envelope]],
        *,
        received_at: datetime | None = None,
    ) -> list[Queued]:
        """`enqueue_verified` for a server: written off the event loop, and callers that
        arrive while a transaction is being written share the next one (group commit), so
        concurrent requests do not wait for one sync to disk each."""
        if not items:
            return []
        future: asyncio.Future[list[bool]] = asyncio.get_running_loop().create_future()
        self._pending.append((_rows(items, received_at), future))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_pending())
        new = await future
        self._queued()
        return _queued(items, new)

    async def _commit_pending(self) -> None:
        while self._pending:
            group, self._pending = self._pending, []
            rows = [row for caller_rows, _ in group for row in caller_rows]
            try:
                new = await asyncio.to_thread(self.outbox.put_many, rows)
            except OutboxFullError as full:
                if len(group) == 1:
                    _settle(group[0][1], error=full)
                    continue
                # Together they do not fit: each caller's events, all or none, in turn.
                for caller_rows, future in group:
                    try:
                        _settle(future, await asyncio.to_thread(self.outbox.put_many, caller_rows))
                    except OutboxFullError as exc:
                        _settle(future, error=exc)
                continue
            except Exception as exc:  # every caller of the group hears of it
                for _, future in group:
                    _settle(future, error=exc)
                continue
            start = 0
            for caller_rows, future in group:
                _settle(future, new[start : start + len(caller_rows)])
                start += len(caller_rows)

    def _queued(self) -> None:
        BACKLOG.labels(self.name).set(self.outbox.backlog())
        self._drained.clear()
        self._wake.set()

    async def flush(self, timeout: float | None = None) -> bool:
        """Wait until the outbox is empty; False if `timeout` passed first. Raises
        `BrokerRefusedError` when the broker refuses the producer (a setting must change)."""
        if self.outbox.backlog() == 0:
            return True
        self._wake.set()
        try:
            await asyncio.wait_for(self._wait_empty(), timeout)
        except TimeoutError:
            return False
        return True

    async def _wait_empty(self) -> None:
        while self.outbox.backlog() > 0:
            if self.refused is not None:
                raise self.refused
            self._drained.clear()
            await self._drained.wait()

    async def _drain_forever(self) -> None:
        delay = self.settings.retry_initial
        while True:
            await self._wake.wait()
            self._wake.clear()
            while True:
                try:
                    sent = await self._drain_batch()
                except BrokerRefusedError as exc:
                    # Retrying cannot help until a setting changes: say so, slowly.
                    self.refused = exc
                    self.connected = False
                    logger.error("%s", exc)
                    self._drained.set()  # wake flush(), which raises it
                    await asyncio.sleep(self.settings.retry_max)
                    continue
                except MissingTopicError as exc:  # someone may apply the plan meanwhile
                    self.connected = False
                    logger.warning("%s; retrying in %.1fs", exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.settings.retry_max)
                    continue
                except (KafkaError, OSError) as exc:
                    self.connected = False
                    logger.warning("broker unreachable (%s); retrying in %.1fs", exc, delay)
                    await self._close_producer()
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.settings.retry_max)
                    continue
                delay = self.settings.retry_initial
                self.refused = None
                if sent == 0:
                    self._drained.set()
                    break

    async def _drain_batch(self) -> int:
        entries = await asyncio.to_thread(self.outbox.peek, self.settings.batch_size)
        if not entries:
            return 0
        producer = await self._ensure_producer()
        try:
            futures = [
                await producer.send(
                    INGEST, value=e.value, key=e.key, headers=HEADERS, timestamp_ms=e.timestamp_ms
                )
                for e in entries
            ]
            await asyncio.gather(*futures)
        except BrokerResponseError as exc:
            refused = refusal(exc, self.kafka)
            if refused is None:
                raise
            raise refused from exc
        # Off the event loop: the delete waits for the disk, and a server keeps serving.
        await asyncio.to_thread(self.outbox.remove, [e.seq for e in entries])
        BACKLOG.labels(self.name).set(await asyncio.to_thread(self.outbox.backlog))
        return len(entries)

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(
                acks="all",
                enable_idempotence=self.kafka.use_idempotence,
                request_timeout_ms=self.settings.request_timeout_ms,
                **self.kafka.client_options(),
            )
            try:
                try:
                    await producer.start()
                except BrokerResponseError as exc:  # reachable, and it said no
                    refused = refusal(exc, self.kafka, starting=True)
                    if refused is None:
                        raise
                    raise refused from exc
                # Ask for all topics (which never auto-creates) before the first send: a broker
                # that auto-creates topics on metadata requests would otherwise make the ingest
                # topic with its default partition count if we beat `wbx topics apply` to it.
                cluster = await producer.client.fetch_all_metadata()
                if INGEST not in cluster.topics():
                    raise MissingTopicError(
                        f"the broker at {self.kafka.bootstrap_servers} has no topic {INGEST} "
                        "that this principal may see: run `wbx topics apply`, or apply the plan "
                        "rendered by `wbx topics render` to the cluster"
                    )
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
            self.connected = True
        return self._producer

    async def _close_producer(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            try:
                await producer.stop()
            except (KafkaError, OSError) as exc:
                logger.debug("producer stop failed: %s", exc)


class MissingTopicError(KafkaError):  # type: ignore[misc]  # aiokafka is untyped
    """The broker answers, but the ingest topic is not there (yet)."""


def refusal(
    exc: BrokerResponseError, kafka: KafkaSettings, *, starting: bool = False
) -> BrokerRefusedError | None:
    """What a broker's "no" means and which setting or grant changes it; None when it is
    not a refusal that only a change can cure (then retrying may help)."""
    where = f"the broker at {kafka.bootstrap_servers}"
    who = f"principal {kafka.sasl_username!r}" if kafka.sasl_username else "this client"
    name = type(exc).__name__
    if isinstance(exc, SaslAuthenticationFailed):
        return BrokerRefusedError(
            f"{where} refused the credentials of {who} ({name}): check "
            "WBX_KAFKA_SASL_USERNAME, WBX_KAFKA_SASL_PASSWORD and WBX_KAFKA_SASL_MECHANISM"
        )
    if isinstance(exc, TopicAuthorizationFailedError):
        return BrokerRefusedError(
            f"{where} refused {who} writing {INGEST} ({name}): the cluster's ACLs must allow "
            "it (`wbx topics render --format acl` lists what the plan grants), or "
            "WBX_KAFKA_SASL_USERNAME names the wrong principal"
        )
    if isinstance(exc, ClusterAuthorizationFailedError) and kafka.use_idempotence:
        return BrokerRefusedError(
            f"{where} refused {who} an idempotent producer ({name}): grant it IdempotentWrite "
            "on the cluster (the rendered ACLs do), or set WBX_KAFKA_IDEMPOTENCE=false"
        )
    if starting and kafka.use_idempotence:
        return BrokerRefusedError(
            f"{where} refused an idempotent producer ({name} to InitProducerId): it does not "
            "support them. Set WBX_KAFKA_IDEMPOTENCE=false (the embedded broker needs it off) "
            "or enable idempotence on the cluster"
        )
    return None


class Publisher(Forwarder):
    """Publishes one agency's events: validates, envelopes, signs, then forwards."""

    def __init__(
        self,
        agency: str,
        private_key: Ed25519PrivateKey,
        outbox: Outbox,
        kafka: KafkaSettings | None = None,
        settings: PublisherSettings | None = None,
        receipt_key: Ed25519PublicKey | None = None,
    ) -> None:
        super().__init__(outbox, kafka, settings, name=agency)
        self.agency = agency
        self.kid = key_id(agency, private_key.public_key())
        self._private_key = private_key
        self.receipt_key = receipt_key
        """The platform's receipt key: receipts not signed by it are refused."""

    @classmethod
    def open(
        cls,
        agency: str,
        key_file: Path,
        kafka: KafkaSettings | None = None,
        settings: PublisherSettings | None = None,
    ) -> Publisher:
        """A publisher using the agency's key file and its outbox under the configured folder,
        checking receipts against `WBX_RECEIPT_PUBLIC_KEY` when it is set."""
        settings = settings or PublisherSettings()
        outbox = Outbox.for_agency(settings.outbox_dir, agency, settings.outbox_max_events)
        receipt_key = ContractSettings().receipt_key()
        return cls(agency, load_private_key(key_file), outbox, kafka, settings, receipt_key)

    def sign(self, item: Mapping[str, Any] | EnvelopeBody) -> dict[str, Any]:
        """Validate and sign a payload or envelope; EnvelopeInvalidError names a bad field."""
        body = item if isinstance(item, EnvelopeBody) else envelope_from_object(item, self.agency)
        return sign_wire(body.to_wire(), self._private_key, self.kid)

    async def publish(self, item: Mapping[str, Any] | EnvelopeBody) -> Queued:
        """Validate, sign and durably queue one event; it is sent as soon as the broker allows."""
        return self.enqueue_signed(self.sign(item))

    async def receipt(self, event_id: str, timeout: float = 60.0) -> Receipt:
        """The platform's signed receipt for one of this agency's events (its verdict:
        `ok`, `replay` or why it was quarantined); ReceiptError when none comes in time or
        it is not signed by `receipt_key`."""
        return await wait_for_receipt(self.kafka, self.agency, event_id, self.receipt_key, timeout)
