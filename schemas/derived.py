"""Records the platform derives from verified events: protected views, audit, stats, alerts.

These are the contract of the downstream topics (`wbx.shared.v1`, `wbx.audit.v1`,
`wbx.stats.v1`, `wbx.alerts.<pcc>.v1`, `wbx.quarantine.v1`; the audit trail's are in
`schemas.audit`) for PCC operators, analysts
and auditors; they carry no raw personal data by construction of the Protect stage.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from schemas.payloads.common import WireModel
from schemas.vocab import (
    Accuracy,
    EventFamily,
    Handling,
    ImpactLevel,
    Participant,
    Purpose,
    Reliability,
)

WBX_NAMESPACE = uuid.UUID("6f1c1d1e-8b7a-5c1e-9a53-57627800000a")
"""Namespace for deterministic (uuid5) ids of derived records, so reprocessing repeats ids."""


def derived_id(*parts: str) -> str:
    """A deterministic UUID for a derived record made from the given parts."""
    return str(uuid.uuid5(WBX_NAMESPACE, "|".join(parts)))


class Provenance(WireModel):
    """Which signed event a derived record comes from."""

    event_id: str
    source: str
    digest: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the signed bytes")


class SharedRecord(WireModel):
    """The protected operational view of one verified event (`wbx.shared.v1`)."""

    record_id: str
    view: str = Field(description="the recipient view the policy produced, e.g. pcc_operator")
    type: str
    kind: str
    family: EventFamily
    time: AwareDatetime
    agency: str
    participant: Participant
    border_section: str
    handling: Handling
    purpose: Purpose
    retain_until: AwareDatetime
    reliability: Reliability
    accuracy: Accuracy
    impact: ImpactLevel
    incident: str | None = None
    closed: bool | None = None
    pseudonym_key_id: str
    record_key: int = Field(
        ge=0,
        lt=2**32,
        description="fixed random key of the event for the cell key method (a keyed HMAC of "
        "source and id, so a redelivery has the same key)",
    )
    data: dict[str, Any] = Field(description="the payload after the protection policy")
    provenance: Provenance

    @property
    def event_key(self) -> str:
        """`source|id` of the originating event: the idempotence key downstream."""
        return f"{self.provenance.source}|{self.provenance.event_id}"

    def persons(self, *, facilitators: bool = False) -> list[dict[str, Any]]:
        """The (protected) persons the event names: `persons` and a single `person`, plus
        `facilitators` when asked. Statistics count the people on the move, so they leave
        facilitators out; the alert rules look at everyone named."""
        fields = ("persons", "person", "facilitators") if facilitators else ("persons", "person")
        found: list[dict[str, Any]] = []
        for name in fields:
            value = self.data.get(name)
            if isinstance(value, dict):
                found.append(value)
            elif isinstance(value, list):
                found.extend(p for p in value if isinstance(p, dict))
        return found


class QuarantineRecord(WireModel):
    """A rejected input record with everything needed to investigate (`wbx.quarantine.v1`)."""

    reason: str
    detail: str
    topic: str
    partition: int
    offset: int
    received_at: AwareDatetime = Field(description="the trusted receipt time of the record")
    original_b64: str | None = Field(
        description="the original record value, standard base64: whole, or its first 256 KiB "
        "when `original_truncated`; null when withheld (personal data past its deadline)"
    )
    original_size: int
    original_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="of the whole value")
    original_truncated: bool = False
    key_b64: str | None = Field(default=None, description="the Kafka key (its first 256 bytes)")
    key_size: int = 0
    event_id: str | None = None
    source: str | None = None


class Period(StrEnum):
    """Tumbling window length of a statistic."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class Dimension(StrEnum):
    """What a statistic is broken down by; `total` is the whole window."""

    TOTAL = "total"
    PARTICIPANT = "participant"
    BORDER_SECTION = "border_section"
    EVENT_TYPE = "event_type"
    NATIONALITY = "nationality"
    SEX = "sex"
    AGE_BAND = "age_band"
    VULNERABILITY = "vulnerability"


class Measure(StrEnum):
    """What is counted: events, or persons listed in events."""

    EVENTS = "events"
    PERSONS = "persons"


class StatCell(WireModel):
    """One cell of regional statistics after disclosure control (`wbx.stats.v1`, compacted).

    Every count is protected by the cell key method (docs/statistics.md): `count` is the
    perturbed value (zero stays zero, never 1-4: a true 1-4 shows as 0 or 5). A group leaves
    out its cells of 0 unless it showed them as more before (then 0 replaces that value on
    the compacted topic). The same records always give the same value.
    """

    key: str = Field(description="compaction key: period|window_start|measure|dimension|value")
    period: Period
    window_start: date
    window_end: date = Field(description="exclusive")
    measure: Measure
    dimension: Dimension
    value: str
    count: int = Field(ge=0, description="the protected count: 0 or at least 5")
    display: str
    status: Literal["open", "final", "revised"] = Field(
        default="final",
        description="open: its window has not ended; final: ended; revised: changed by a "
        "late report after it ended",
    )
    updated_at: AwareDatetime


class AlertStatus(StrEnum):
    """Lifecycle of an alert at a PCC."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"


class AlertEvent(WireModel):
    """A pseudonymised reference to an event behind an alert."""

    event_id: str
    source: str
    type: str
    time: AwareDatetime
    border_section: str
    summary: dict[str, Any] = Field(default_factory=dict, description="pseudonymised facts")
    # Each event's own conditions, for the operator's detail view. Optional on the wire so a
    # gateway reads alerts raised before they were added (they show as "not stated").
    handling: Handling | None = None
    purpose: Purpose | None = None
    reliability: Reliability | None = None
    accuracy: Accuracy | None = None
    retain_until: AwareDatetime | None = Field(default=None, description="retention deadline")


class Alert(WireModel):
    """An alert routed to one PCC (`wbx.alerts.<pcc>.v1`)."""

    id: str = Field(description="deterministic: the same cause in the same window, same id")
    revision: int = Field(ge=1, description="grows when events merge into the alert")
    rule: str
    severity: ImpactLevel
    border_section: str
    pcc: str
    time: AwareDatetime = Field(description="time of the latest event behind the alert")
    raised_at: AwareDatetime
    status: AlertStatus = AlertStatus.OPEN
    title: str
    handling: Handling
    retain_until: AwareDatetime
    events: list[AlertEvent] = Field(description="the events behind it (the latest 20 at most)")
    event_count: int = Field(default=1, ge=1, description="how many events are behind it")


def window_bounds(period: Period, day: date) -> tuple[date, date]:
    """The [start, end) dates of the window of `period` that contains `day`."""
    if period is Period.DAY:
        return day, day + timedelta(days=1)
    if period is Period.WEEK:
        start = day - timedelta(days=day.weekday())  # ISO weeks start on Monday
        return start, start + timedelta(days=7)
    start = day.replace(day=1)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start, end


def utc_day(moment: datetime) -> date:
    """The UTC calendar day of an aware datetime."""
    return moment.astimezone(UTC).date()


class AlertAction(WireModel):
    """An operator acknowledgement or a gateway escalation of an alert (`wbx.alert-acks.v1`)."""

    action_id: str = Field(description="deterministic, so instances repeating it are merged")
    action: Literal["acknowledge", "escalate"]
    alert_id: str
    pcc: str
    by: str = Field(description="the operator (token subject) or 'gateway' for escalations")
    at: AwareDatetime
    note: str | None = Field(default=None, max_length=500)
