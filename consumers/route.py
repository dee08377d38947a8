"""Route stage: evaluate alert rules on protected records and address alerts to PCCs.

Deterministic by construction: windows use event time, never the wall clock, and alert ids
derive from rule, PCC, cause and time bucket, so replaying the same records reproduces the
same alerts and revisions (that is how a restart avoids sending an alert twice).
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from consumers.rules import RuleConfig
from schemas.derived import Alert, AlertEvent, SharedRecord, derived_id
from schemas.reference import ReferenceData
from schemas.vocab import Handling

# The alert carries the most restrictive handling of its events; H3 (restrictions stated by
# the provider) is treated as strictest, H0 (law-enforcement use only) as the base for PCCs.
_HANDLING_ORDER = [Handling.H0, Handling.H1, Handling.H2, Handling.H3]
_PSEUDONYM_FIELDS = ("document_number", "biometric_ref")


@dataclass(frozen=True, slots=True)
class Trigger:
    """A rule matched: why, and which earlier events (if any) belong with this one."""

    rule: RuleConfig
    cause: str
    bucket_start: datetime
    related: tuple[AlertEvent, ...] = ()


def _persons(data: dict[str, Any]) -> list[dict[str, Any]]:
    persons = [p for p in data.get("persons", []) if isinstance(p, dict)]
    for key in ("person",):
        if isinstance(data.get(key), dict):
            persons.append(data[key])
    return persons + [p for p in data.get("facilitators", []) if isinstance(p, dict)]


def alert_event(record: SharedRecord) -> AlertEvent:
    """The pseudonymised reference to a record that an alert lists."""
    data = record.data
    summary: dict[str, Any] = {
        k: data[k]
        for k in ("group_size", "count", "persons_smuggled", "heading_to", "status", "direction")
        if k in data
    }
    if "vehicle_plate" in data:
        summary["vehicle"] = data["vehicle_plate"]
    persons = _persons(data)
    flags = sorted({v for p in persons for v in p.get("vulnerabilities", [])})
    if flags:
        summary["vulnerabilities"] = flags
    pseudonyms = sorted({p[f] for p in persons for f in _PSEUDONYM_FIELDS if f in p})
    if pseudonyms:
        summary["pseudonyms"] = pseudonyms
    return AlertEvent(
        event_id=record.provenance.event_id,
        source=record.provenance.source,
        type=record.type,
        time=record.time,
        border_section=record.border_section,
        summary=summary,
    )


def _bucket(moment: datetime, hours: float) -> datetime:
    size = hours * 3600
    return datetime.fromtimestamp((moment.timestamp() // size) * size, tz=moment.tzinfo)


class Router:
    """Rule evaluation with bounded state: surge history, pseudonym sightings, open alerts."""

    def __init__(self, rules: list[RuleConfig], reference: ReferenceData) -> None:
        self.rules = rules
        self.reference = reference
        self.alerts: dict[str, tuple[Alert, datetime]] = {}
        self.surge: dict[str, deque[tuple[datetime, int]]] = defaultdict(deque)
        self.sightings: dict[str, list[tuple[datetime, str, AlertEvent]]] = defaultdict(list)
        self.unrouted: list[tuple[str, str]] = []
        self.latest: datetime | None = None

    def process(self, record: SharedRecord) -> list[Alert]:
        """Alerts (new, or merged into a new revision) caused by one record."""
        self.latest = max(self.latest or record.time, record.time)
        event = alert_event(record)
        out: list[Alert] = []
        for rule in self.rules:
            trigger = self._evaluate(rule, record, event)
            if trigger is not None:
                out.extend(self._emit(trigger, record, event))
        self._evict()
        return out

    def _evaluate(
        self, rule: RuleConfig, record: SharedRecord, event: AlertEvent
    ) -> Trigger | None:
        data, kind, section = record.data, record.kind, record.border_section
        bucket = _bucket(record.time, rule.merge_window_hours)
        if rule.kind == "protection":
            flagged = {v.value for v in rule.vulnerabilities}
            hits = [p for p in _persons(data) if flagged & set(p.get("vulnerabilities", []))]
            if kind in rule.always_for or hits:
                ids = sorted({p.get(f, "") for p in hits for f in _PSEUDONYM_FIELDS} - {""})
                who = ids[0] if ids else record.event_key
                return Trigger(rule, f"{section}|{who}", bucket)
        elif rule.kind == "death" and kind == "death_or_missing_person":
            return Trigger(rule, record.incident or record.event_key, bucket)
        elif rule.kind == "smuggling_vehicle" and kind == "migrant_smuggling":
            heading = data.get("heading_to")
            crosses = heading is None or heading not in (record.participant.value,)
            if data.get("vehicle_plate") and crosses:
                return Trigger(rule, f"{section}|{data['vehicle_plate']}", bucket)
        elif rule.kind == "large_group" and kind in rule.event_kinds:
            if int(data.get("group_size", 0)) >= rule.min_group_size:
                return Trigger(rule, record.event_key, bucket)
        elif rule.kind == "surge" and kind in rule.event_kinds:
            return self._surge(rule, record, bucket)
        elif rule.kind == "secondary_movement":
            return self._secondary(rule, record, event)
        return None

    def _surge(self, rule: RuleConfig, record: SharedRecord, bucket: datetime) -> Trigger | None:
        history = self.surge[record.border_section]
        persons = max(1, int(record.data.get("group_size", 1)))
        history.append((record.time, persons))
        window = timedelta(hours=rule.window_hours)
        split = record.time - window
        start = split - timedelta(days=rule.baseline_days)
        recent = sum(n for t, n in history if split < t <= record.time)
        baseline = sum(n for t, n in history if start < t <= split)
        rate = baseline / (timedelta(days=rule.baseline_days) / window)
        if recent >= rule.min_count and recent > rule.multiplier * rate:
            return Trigger(rule, record.border_section, bucket)
        return None

    def _secondary(
        self, rule: RuleConfig, record: SharedRecord, event: AlertEvent
    ) -> Trigger | None:
        window = timedelta(hours=rule.window_hours)
        participant = record.participant.value
        trigger = None
        for pseudonym in event.summary.get("pseudonyms", []):
            seen = self.sightings[pseudonym]
            earlier = [s for s in seen if s[1] != participant and abs(record.time - s[0]) <= window]
            if earlier and trigger is None:
                first = min(earlier, key=lambda s: s[0])
                bucket = _bucket(first[0], rule.merge_window_hours)
                trigger = Trigger(rule, pseudonym, bucket, (first[2],))
            seen.append((record.time, participant, event))
        return trigger

    def _emit(self, trigger: Trigger, record: SharedRecord, event: AlertEvent) -> list[Alert]:
        pccs = self.reference.pccs_covering(record.border_section)
        if not pccs:
            self.unrouted.append((trigger.rule.id, record.border_section))
            return []
        out = []
        expires = trigger.bucket_start + timedelta(hours=trigger.rule.merge_window_hours)
        for pcc in pccs:
            alert_id = derived_id(
                "alert", trigger.rule.id, pcc, trigger.cause, trigger.bucket_start.isoformat()
            )
            current = self.alerts.get(alert_id)
            if current is None:
                events = [*trigger.related, event]
                alert = Alert(
                    id=alert_id,
                    revision=1,
                    rule=trigger.rule.id,
                    severity=trigger.rule.severity,
                    border_section=record.border_section,
                    pcc=pcc,
                    time=record.time,
                    raised_at=record.time,
                    title=f"{trigger.rule.description} ({record.border_section})",
                    handling=record.handling,
                    retain_until=record.retain_until,
                    events=events,
                )
            else:
                previous = current[0]
                known = {(e.source, e.event_id) for e in previous.events}
                if (event.source, event.event_id) in known:
                    continue  # a redelivery: nothing new to say
                alert = previous.model_copy(
                    update={
                        "revision": previous.revision + 1,
                        "time": max(previous.time, record.time),
                        "handling": max(
                            previous.handling, record.handling, key=_HANDLING_ORDER.index
                        ),
                        "retain_until": min(previous.retain_until, record.retain_until),
                        "events": [*previous.events, event],
                    }
                )
            self.alerts[alert_id] = (alert, expires)
            out.append(alert)
        return out

    def _evict(self) -> None:
        if self.latest is None:
            return
        now = self.latest
        for key in [k for k, (_, until) in self.alerts.items() if until < now]:
            del self.alerts[key]
        horizon = max(
            (
                timedelta(days=r.baseline_days) + timedelta(hours=r.window_hours)
                for r in self.rules
                if r.kind == "surge"
            ),
            default=timedelta(0),
        )
        for history in self.surge.values():
            while history and history[0][0] < now - horizon:
                history.popleft()
        sight = max(
            (timedelta(hours=r.window_hours) for r in self.rules if r.kind == "secondary_movement"),
            default=timedelta(0),
        )
        for key in list(self.sightings):
            kept = [s for s in self.sightings[key] if s[0] >= now - sight]
            if kept:
                self.sightings[key] = kept
            else:
                del self.sightings[key]

    def state_size(self) -> int:
        """Entries held in all state (for tests of boundedness)."""
        return (
            len(self.alerts)
            + sum(map(len, self.surge.values()))
            + sum(map(len, self.sightings.values()))
        )
