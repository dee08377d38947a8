"""Route stage: evaluate alert rules on protected records and address alerts to PCCs.

Deterministic by construction: windows use event time, never the wall clock, and alert ids
derive from rule, PCC, cause and time bucket, so replaying the same records reproduces the
same alerts and revisions (that is how a restart avoids sending an alert twice).
"""

from __future__ import annotations

import contextlib
import heapq
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from consumers.rules import (
    Evaluator,
    RuleConfig,
    Trigger,
    evaluator_for,
    longest_window,
    pseudonyms,
)
from schemas.derived import Alert, AlertEvent, SharedRecord, derived_id
from schemas.reference import ReferenceData
from schemas.shredding import ShreddedError, Shredder
from schemas.vocab import Handling

# The alert carries the most restrictive handling of its events; H3 (restrictions stated by
# the provider) is treated as strictest, H0 (law-enforcement use only) as the base for PCCs.
_HANDLING_ORDER = [Handling.H0, Handling.H1, Handling.H2, Handling.H3]
_SUMMARY_FIELDS = ("group_size", "count", "persons_smuggled", "heading_to", "status", "direction")


def alert_event(record: SharedRecord) -> AlertEvent:
    """The pseudonymised reference to a record that an alert lists."""
    data = record.data
    summary: dict[str, Any] = {k: data[k] for k in _SUMMARY_FIELDS if k in data}
    if "vehicle_plate" in data:
        summary["vehicle"] = data["vehicle_plate"]
    people = record.persons(facilitators=True)
    flags = sorted({str(v) for p in people for v in p.get("vulnerabilities") or []})
    if flags:
        summary["vulnerabilities"] = flags
    named = pseudonyms(record)
    if named:
        summary["pseudonyms"] = named
    return AlertEvent(
        event_id=record.provenance.event_id,
        source=record.provenance.source,
        type=record.type,
        time=record.time,
        border_section=record.border_section,
        summary=summary,
        handling=record.handling,
        purpose=record.purpose,
        reliability=record.reliability,
        accuracy=record.accuracy,
        retain_until=record.retain_until,
    )


MAX_LISTED = 20


@dataclass(slots=True)
class _Open:
    """An alert still open for merging: the latest revision sent and the events behind it."""

    alert: Alert
    keys: set[tuple[str, str]]


class Router:
    """Rule evaluation with bounded state: surge history, pseudonym sightings, open alerts."""

    def __init__(self, rules: list[RuleConfig], reference: ReferenceData) -> None:
        self.rules = rules
        self.reference = reference
        self.evaluators: list[tuple[RuleConfig, Evaluator]] = [
            (rule, evaluator_for(rule)) for rule in rules
        ]
        self.horizon = longest_window(rules)
        self.alerts: dict[str, _Open] = {}
        self._alert_expiry: list[tuple[datetime, str]] = []
        # Per rule id (bounded by the rules): alerts no PCC covers, until the pipeline takes
        # them into the metric. They are counted, never kept.
        self._unrouted: dict[str, int] = {}
        self.latest: datetime | None = None

    def process(self, record: SharedRecord) -> list[Alert]:
        """Alerts (new, or merged into a new revision) caused by one record."""
        self.latest = max(self.latest or record.time, record.time)
        event = alert_event(record)
        out: list[Alert] = []
        for rule, evaluator in self.evaluators:
            trigger = evaluator.evaluate(record, event)
            if trigger is not None:
                out.extend(self._emit(rule, trigger, record, event))
        self._evict()
        return out

    def _emit(
        self, rule: RuleConfig, trigger: Trigger, record: SharedRecord, event: AlertEvent
    ) -> list[Alert]:
        pccs = self.reference.pccs_covering(record.border_section)
        if not pccs:
            self._unrouted[rule.id] = self._unrouted.get(rule.id, 0) + 1
            return []
        out = []
        expires = trigger.bucket_start + timedelta(hours=rule.merge_window_hours)
        for pcc in pccs:
            alert_id = derived_id(
                "alert", rule.id, pcc, trigger.cause, trigger.bucket_start.isoformat()
            )
            current = self.alerts.get(alert_id)
            if current is None:
                events = [*trigger.related, event]
                alert = Alert(
                    id=alert_id,
                    revision=1,
                    rule=rule.id,
                    severity=rule.severity,
                    border_section=record.border_section,
                    pcc=pcc,
                    time=record.time,
                    raised_at=record.time,
                    title=f"{rule.description} ({record.border_section})",
                    handling=record.handling,
                    retain_until=record.retain_until,
                    events=events,
                    event_count=len(events),
                )
                heapq.heappush(self._alert_expiry, (expires, alert_id))
                self.alerts[alert_id] = _Open(alert, {(e.source, e.event_id) for e in events})
                out.append(alert)
                continue
            key = (event.source, event.event_id)
            if key in current.keys:
                continue  # a redelivery: nothing new to say
            current.keys.add(key)
            count = len(current.keys)
            # Operators need to see an alert grow, not a revision per event: every event up
            # to MAX_LISTED, then only at each doubling (a surge of 1,000 makes ~6 more).
            if count > MAX_LISTED and count & (count - 1):
                continue
            previous = current.alert
            current.alert = previous.model_copy(
                update={
                    "revision": previous.revision + 1,
                    "time": max(previous.time, record.time),
                    "handling": max(previous.handling, record.handling, key=_HANDLING_ORDER.index),
                    "retain_until": min(previous.retain_until, record.retain_until),
                    "events": [*previous.events, event][-MAX_LISTED:],
                    "event_count": count,
                }
            )
            out.append(current.alert)
        return out

    def _evict(self) -> None:
        """Drop state that can no longer matter, amortised O(1) per record."""
        if self.latest is None:
            return
        now = self.latest
        while self._alert_expiry and self._alert_expiry[0][0] < now:
            _, alert_id = heapq.heappop(self._alert_expiry)
            self.alerts.pop(alert_id, None)
        for _, evaluator in self.evaluators:
            evaluator.evict(now)

    def take_unrouted(self) -> dict[str, int]:
        """Alerts per rule that no PCC covers, since the last call (for the metric)."""
        taken, self._unrouted = self._unrouted, {}
        return taken

    def sizes(self) -> dict[str, int]:
        """Entries held by every structure (docs/processing.md states their bounds)."""
        sizes = {
            "open_alerts": len(self.alerts),
            "alert_expiry": len(self._alert_expiry),
            "unrouted_rules": len(self._unrouted),
        }
        for rule, evaluator in self.evaluators:
            sizes[f"rule:{rule.id}"] = evaluator.size()
        return sizes

    def state_size(self) -> int:
        """Entries held in all state (for tests of boundedness)."""
        return sum(self.sizes().values())


IDENTIFYING_SUMMARY = ("pseudonyms", "vehicle")
"""The facts of an alert's event that identify someone: sealed under its deadline's key."""


def seal_alert(alert: Alert, shredder: Shredder, today: date) -> Alert:
    """`alert` as it goes on its PCC's topic: each event's identifying facts sealed under
    the key of that event's deadline day (a fact already past it is left out)."""
    events = []
    for event in alert.events:
        deadline = event.retain_until or alert.retain_until
        summary: dict[str, Any] = {}
        for name, value in event.summary.items():
            if name not in IDENTIFYING_SUMMARY:
                summary[name] = value
                continue
            with contextlib.suppress(ShreddedError):
                summary[name] = shredder.seal_value(value, deadline, today)
        events.append(event.model_copy(update={"summary": summary}))
    return alert.model_copy(update={"events": events})
