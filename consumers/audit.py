"""Audit stage: the facts the worker records about what it releases to whom.

Pure: a protected event's release comes from the Protect stage (`Protected.audit`); this
module adds the release of an alert to a PCC.
`schemas.audit.AuditChain` links and signs the facts; the agents emit them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from schemas.audit import AuditAction, AuditFact
from schemas.derived import Alert, derived_id

PSEUDONYM_PREFIX = "psn:"


def _pseudonyms(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value.startswith(PSEUDONYM_PREFIX):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _pseudonyms(item)
    elif isinstance(value, list):
        for item in value:
            yield from _pseudonyms(item)


def alert_release(alert: Alert, now: datetime) -> AuditFact:
    """The release of one revision of an alert to its PCC: the events behind it and the
    pseudonyms its summaries carry."""
    purposes = {e.purpose for e in alert.events if e.purpose is not None}
    return AuditFact(
        audit_id=derived_id("alert", alert.id, str(alert.revision)),
        at=now,
        action=AuditAction.RELEASE,
        actor="worker",
        recipient=f"pcc:{alert.pcc}",
        purpose=purposes.pop() if len(purposes) == 1 else None,
        handling=alert.handling,
        events=[e.event_id for e in alert.events],
        target=alert.id,
        pseudonyms=sorted({p for e in alert.events for p in _pseudonyms(e.summary)}),
        detail=f"alert {alert.rule}, revision {alert.revision}",
    )
