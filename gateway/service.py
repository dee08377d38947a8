"""The gateway's work behind the HTTP layer: ingest, alert actions, escalation, readiness."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer

from gateway import metrics
from gateway.audit import AuditTrail, action_fact
from gateway.auth import Principal, TokenAuthority
from gateway.feeds import Feeds
from gateway.oidc import OidcWebSignIn, PendingLogins, oidc_verifier, oidc_web_sign_in
from gateway.settings import GatewaySettings
from gateway.views import (
    AgencyEvents,
    AgencyReceipts,
    AlertState,
    PccAlerts,
    StatsView,
    escalation_for,
)
from gateway.web.sessions import Sessions, SignInCodes
from producers.outbox import Outbox, OutboxFullError
from producers.publisher import Forwarder
from schemas.asyncapi import asyncapi_document
from schemas.audit import AuditChain, AuditFact, chain_id
from schemas.derived import AlertAction, derived_id
from schemas.disclosure import load_ptable
from schemas.envelope import Envelope, agency_of
from schemas.errors import WbxError
from schemas.keys import load_or_create_private_key
from schemas.reference import load_reference
from schemas.registry_log import RegistryLog
from schemas.settings import ContractSettings, KafkaSettings
from schemas.signed import AUDIT_PURPOSE, key_id
from schemas.strict_json import excerpt
from schemas.topics import ALERT_ACKS, INGEST, STATS, alerts_topic, load_topic_plan
from schemas.verification import Verifier
from schemas.vocab import ImpactLevel

logger = logging.getLogger(__name__)


class AlertNotFoundError(WbxError):
    """No alert with that id is in the caller's PCC view."""


class SourceNotAllowedError(WbxError):
    """An event's source is not the agency the caller's token is bound to."""


@dataclass(frozen=True, slots=True)
class IngestResult:
    """The outcome for one submitted event."""

    index: int
    id: str | None
    status: str
    reason: str
    detail: str = ""


class GatewayService:
    """Owns the views, the feed consumer, the forwarder to Kafka and the escalation loop."""

    def __init__(
        self,
        settings: GatewaySettings | None = None,
        kafka: KafkaSettings | None = None,
        contract: ContractSettings | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings or GatewaySettings()
        self.kafka = kafka or KafkaSettings()
        contract = contract or ContractSettings()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.reference = load_reference(contract.reference_file)
        self._asyncapi: dict[str, Any] | None = None
        self.authority = TokenAuthority.from_file(
            self.settings.token_key_file, self.settings.issuer, self.settings.audience
        )
        # The web pages' sign-in at the issuer, when it is configured with a client id.
        self.oidc_web: OidcWebSignIn | None = None
        self.oidc_logins = PendingLogins()
        if self.settings.oidc_issuer:
            self.authority.oidc = oidc_verifier(self.settings)
            self.oidc_web = oidc_web_sign_in(self.settings, self.authority.oidc)
        # The key registry: the seed file, kept in step with wbx.keys.v1 by the feed below.
        self.keys = RegistryLog.from_settings(
            contract, lambda outcome: metrics.KEY_CHANGES.labels(outcome.value).inc()
        )
        self.verifier = Verifier.from_settings(contract, self.keys.registry)
        self.alerts = {
            pcc: PccAlerts(self.settings.alerts_per_pcc, self.settings.stream_backlog)
            for pcc in sorted(self.reference.pccs)
        }
        self.stats = StatsView(load_ptable(contract.ptable_file), self.settings.stat_cells)
        self.receipts = {
            agency: AgencyReceipts(self.settings.receipts_per_agency)
            for agency in sorted(self.reference.agencies)
        }
        self.events = {
            agency: AgencyEvents(self.settings.events_per_agency)
            for agency in sorted(self.reference.agencies)
        }
        self.receipt_key = contract.receipt_key()
        self.feeds = Feeds(
            self.kafka,
            self.alerts,
            self.stats,
            self.keys,
            self.receipts,
            self.events,
            shredder=contract.shredder(),
            clock=self.clock,
        )
        outbox = Outbox(
            self.settings.outbox_dir / "gateway.sqlite3", self.settings.outbox_max_events
        )
        # Two gateways on one host must not share it: each would send everything twice.
        outbox.claim("WBX_GATEWAY_OUTBOX_DIR")
        # The gateway publishes on behalf of HTTP clients, through the producers' library.
        self.forwarder = Forwarder(outbox, self.kafka, self.settings.forwarding(), name="gateway")
        self.sessions = Sessions(self.settings.web_sessions)
        self.sign_in_codes = SignInCodes()
        self._producer: AIOKafkaProducer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        audit_key = load_or_create_private_key(self.settings.audit_key_file)
        self.audit = AuditTrail(
            AuditChain(
                chain_id("gateway", socket.gethostname(), uuid.uuid4().hex[:12], "gateway"),
                audit_key,
                key_id(audit_key.public_key(), AUDIT_PURPOSE),
            ),
            self._send,
            self.clock,
            self.settings.audit_pending,
        )

    async def start(self) -> None:
        """Start following Kafka, forwarding accepted events and escalating."""
        await self.forwarder.start()
        self._tasks = [
            asyncio.create_task(self.feeds.run(), name="gateway-feeds"),
            asyncio.create_task(self._escalate_forever(), name="gateway-escalation"),
            asyncio.create_task(self._checkpoint_forever(), name="gateway-audit-checkpoints"),
        ]

    async def stop(self) -> None:
        """Stop background work (queued events stay in the outbox) and close open streams."""
        for view in self.alerts.values():
            view.disconnect_all()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.forwarder.stop()
        with contextlib.suppress(Exception):  # the last head, when Kafka is there to take it
            await self.audit.checkpoint()
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def ingest(self, items: list[Any], principal: Principal) -> list[IngestResult]:
        """Verify each envelope like the Verify stage and queue the accepted ones."""
        for index, item in enumerate(items):
            source = item.get("source") if isinstance(item, dict) else None
            if isinstance(source, str):
                try:
                    agency = agency_of(source)
                except ValueError:
                    continue  # reported per event as malformed below
                if agency != principal.agency:
                    raise SourceNotAllowedError(
                        f"event {index} has source {source}; this token may publish only as "
                        f"urn:wbx:agency:{principal.agency}"
                    )
        # The receipt time at Kafka's millisecond precision, so the worker that reads the
        # record's timestamp judges the clock checks at exactly this instant.
        now = self.clock()
        received_at = now.replace(microsecond=now.microsecond // 1000 * 1000)
        results: list[IngestResult | None] = []
        accepted: list[tuple[int, str | None, Mapping[str, Any], Envelope]] = []
        for index, item in enumerate(items):
            verdict = self.verifier.verify_object(item, received_at=received_at)
            ident = None if verdict.event_id is None else excerpt(verdict.event_id, 200)
            metrics.INGEST.labels(verdict.reason.value).inc()
            if not verdict.ok or verdict.envelope is None:
                results.append(
                    IngestResult(index, ident, "rejected", verdict.reason.value, verdict.detail)
                )
                continue
            results.append(None)
            accepted.append((index, ident, item, verdict.envelope))
        try:
            # One transaction for the request (shared with concurrent ones): one sync to disk.
            queued = await self.forwarder.queue(
                [(item, envelope) for _, _, item, envelope in accepted], received_at=received_at
            )
        except OutboxFullError as exc:  # Kafka has been away too long: retry later
            for index, ident, _, _ in accepted:
                results[index] = IngestResult(index, ident, "rejected", "outbox_full", str(exc))
        else:
            for (index, ident, _, _), one in zip(accepted, queued, strict=True):
                detail = "" if one.new else "already queued"
                results[index] = IngestResult(index, ident, "accepted", "ok", detail)
        return [result for result in results if result is not None]

    def asyncapi(self) -> dict[str, Any]:
        """The AsyncAPI 3.0 document of this deployment's topics (its PCCs' alerts too)."""
        if self._asyncapi is None:
            plan = load_topic_plan(
                self.kafka.topics_file, sorted(self.reference.pccs), sorted(self.reference.agencies)
            )
            self._asyncapi = asyncapi_document(plan)
        return self._asyncapi

    async def missing_topics(self) -> list[str]:
        """Topics the gateway needs that the broker lacks (raises when unreachable)."""
        needed = [ALERT_ACKS, INGEST, STATS, *(alerts_topic(p) for p in self.alerts)]
        return await self.kafka.missing_topics(needed, timeout_ms=3_000)

    def view(self, pcc: str) -> PccAlerts:
        """The alert view of one PCC, without any alert past its sender's deadline."""
        view = self.alerts[pcc]
        view.expire(self.clock())
        return view

    def view_of(self, pcc: str | None) -> PccAlerts | None:
        """`view(pcc)`, or None for a PCC this gateway does not serve."""
        return self.view(pcc) if pcc in self.alerts else None

    async def acknowledge(self, pcc: str, alert_id: str, by: str, note: str | None) -> AlertState:
        """Record who acknowledged an alert, for every instance and the audit trail."""
        view = self.view(pcc)
        state = view.alerts.get(alert_id)
        if state is None:
            raise AlertNotFoundError(f"alert {alert_id} is not in the view of {pcc}")
        if state.acknowledged_at is not None:
            return state
        now = self.clock()
        action = AlertAction(
            action_id=derived_id("acknowledge", alert_id),
            action="acknowledge",
            alert_id=alert_id,
            pcc=pcc,
            by=by,
            at=now,
            note=note,
        )
        await self._act(action, state)
        view.apply_action(action)
        metrics.ACK_SECONDS.observe(max(0.0, (now - state.received_at).total_seconds()))
        return state

    async def escalate_due(self) -> int:
        """Escalate every unacknowledged alert past its deadline; returns how many."""
        limits = {
            ImpactLevel.HIGH: self.settings.escalate_high_after,
            ImpactLevel.CRITICAL: self.settings.escalate_critical_after,
        }
        now = self.clock()
        count = 0
        for own in self.events.values():
            own.expire(now)  # personal data leaves memory at its deadline, read or not
        for view in self.alerts.values():
            view.expire(now)  # the deadline is checked on this pass too: streams hear of it
            for state in view.due_for_escalation(now, limits):
                action = escalation_for(state, now)
                await self._act(action, state)
                view.apply_action(action)
                count += 1
        return count

    async def _escalate_forever(self) -> None:
        await self.feeds.loaded.wait()
        while True:
            try:
                await self.escalate_due()
            except Exception:
                logger.exception("escalation pass failed; retrying")
            await asyncio.sleep(self.settings.escalation_check_interval)

    async def _checkpoint_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.audit_checkpoint_interval)
            try:
                await self.audit.checkpoint()
            except Exception:
                logger.exception("audit checkpoint failed; retrying")

    async def record(self, fact: AuditFact) -> None:
        """Put `fact` on the gateway's audit chain (AuditBacklogFullError when Kafka has
        been away so long that the backlog is full)."""
        await self.audit.record(fact)

    async def _act(self, action: AlertAction, state: AlertState) -> None:
        # Recorded first: an action that reached the other instances is always on the trail.
        await self.audit.record(action_fact(action, state.alert))
        await self._send(ALERT_ACKS, action.alert_id.encode(), action.model_dump_json().encode())

    async def _send(self, topic: str, key: bytes, value: bytes) -> None:
        if self._producer is None:
            producer = AIOKafkaProducer(
                acks="all",
                enable_idempotence=self.kafka.use_idempotence,
                **self.kafka.client_options(),
            )
            await producer.start()
            self._producer = producer
        await self._producer.send_and_wait(topic, key=key, value=value)
