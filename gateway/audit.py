"""The gateway's audit chain: operators' acknowledgements, escalations, sign-ins, exports.

One chain per gateway run (`schemas.audit`), signed by the gateway's audit key. Records
leave in the order they were linked, one at a time; a record Kafka did not take waits, in
order, for the next attempt, so an outage leaves the chain whole rather than with a gap.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime

from gateway import metrics
from gateway.auth import Principal
from schemas.audit import AuditAction, AuditChain, AuditFact
from schemas.derived import Alert, AlertAction, derived_id
from schemas.errors import WbxError
from schemas.topics import AUDIT, AUDIT_CHECKPOINTS

logger = logging.getLogger(__name__)

Send = Callable[[str, bytes, bytes], Awaitable[None]]


class AuditBacklogFullError(WbxError):
    """The gateway holds as many unsent audit records as it may: Kafka is away too long."""


class AuditTrail:
    """Links each fact into the gateway's chain and sends it, in order.

    Bounded: at most `max_pending` records wait for Kafka (then the action that needs one
    is refused, so nothing happens unrecorded).
    """

    def __init__(
        self, chain: AuditChain, send: Send, clock: Callable[[], datetime], max_pending: int
    ) -> None:
        self.chain = chain
        self._send = send
        self._clock = clock
        # (topic, value, seq, sha): a record's number and hash, for `mark_sent` (0 for a
        # checkpoint).
        self._pending: deque[tuple[str, bytes, int, str]] = deque()
        self._max_pending = max_pending
        self._lock = asyncio.Lock()

    @property
    def pending(self) -> int:
        """Records linked but not yet taken by Kafka."""
        return len(self._pending)

    async def record(self, fact: AuditFact) -> None:
        """Link `fact` and send it (and whatever waits before it); AuditBacklogFullError
        when the backlog is full. A send that fails keeps the record for the next try."""
        async with self._lock:
            if len(self._pending) >= self._max_pending:
                raise AuditBacklogFullError(
                    f"{len(self._pending)} audit records wait for Kafka; try again later"
                )
            record = self.chain.link(fact)
            value = record.model_dump_json().encode("utf-8")
            self._pending.append((AUDIT, value, record.seq, self.chain.head))
            await self._drain()

    async def checkpoint(self) -> None:
        """Publish the chain's head when it moved (after the records it names)."""
        async with self._lock:
            await self._drain()  # what waits first: a checkpoint names only what was sent
            head = self.chain.checkpoint(self._clock())
            if head is not None:
                value = head.model_dump_json().encode("utf-8")
                self._pending.append((AUDIT_CHECKPOINTS, value, 0, ""))
            await self._drain()

    async def _drain(self) -> None:
        key = self.chain.chain.encode("utf-8")
        while self._pending:
            topic, value, seq, sha = self._pending[0]
            try:
                await self._send(topic, key, value)  # acknowledged by the broker
            except Exception:
                logger.warning("audit record not sent (%d waiting); will retry", self.pending)
                metrics.AUDIT_PENDING.set(self.pending)
                return
            self._pending.popleft()
            if seq:
                self.chain.mark_sent(seq, sha)
        metrics.AUDIT_PENDING.set(0)


def action_fact(action: AlertAction, alert: Alert) -> AuditFact:
    """The audit fact of an acknowledgement or escalation of `alert`."""
    return AuditFact(
        audit_id=derived_id("audit", action.action_id),
        at=action.at,
        action=AuditAction(action.action),
        actor=action.by,
        recipient=f"pcc:{action.pcc}",
        handling=alert.handling,
        events=[e.event_id for e in alert.events],
        target=action.alert_id,
        detail=action.note or "",
    )


def actor_of(principal: Principal) -> str:
    """Who a principal is, for the trail: role, binding and subject (our tokens' subjects
    are `<role>:<binding>` already; an identity provider's are its own ids)."""
    if principal.subject.startswith(f"{principal.role.value}:"):
        return principal.subject
    binding = principal.pcc or principal.agency or principal.analyst
    bound = f":{binding}" if binding else ""
    return f"{principal.role.value}{bound}:{principal.subject}"


def sign_in_fact(principal: Principal, at: datetime, how: str) -> AuditFact:
    """The audit fact of a sign-in to the pages (`how`: code, token or oidc)."""
    actor = actor_of(principal)
    return AuditFact(
        audit_id=derived_id("sign_in", actor, at.isoformat()),
        at=at,
        action=AuditAction.SIGN_IN,
        actor=actor,
        recipient="gateway:pages",
        detail=f"signed in with {how}",
    )


def export_fact(principal: Principal, at: datetime, what: str, query: str) -> AuditFact:
    """The audit fact of a download: `what` was exported, for `query`."""
    actor = actor_of(principal)
    return AuditFact(
        audit_id=derived_id("export", actor, what, query, at.isoformat()),
        at=at,
        action=AuditAction.EXPORT,
        actor=actor,
        recipient=actor,
        target=what,
        detail=query,
    )
