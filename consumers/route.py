"""Route stage: evaluate alert rules on protected records and address alerts to PCCs.

Deterministic by construction: windows use event time, never the wall clock, and alert ids
derive from rule, PCC, cause and time bucket, so replaying the same records reproduces the
same alerts and revisions (that is how a restart avoids sending an alert twice).
"""

from __future__ import annotations

import heapq
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


MAX_LISTED = 20


@dataclass(slots=True)
class _Open:
    """An alert still open for merging: the latest revision sent and the events behind it."""

    alert: Alert
    keys: set[tuple[str, str]]


class _SurgeCounts:
    """Persons apprehended on one section: the last `window`, and the baseline before it.

    Records mostly arrive in time order, so two deques with running sums give O(1)
    amortised updates; a late record falls back to counting the deques exactly.
    """

    def __init__(self, window: timedelta, baseline: timedelta) -> None:
        self.window = window
        self.baseline_span = baseline
        self.recent: deque[tuple[datetime, int]] = deque()
        self.older: deque[tuple[datetime, int]] = deque()
        self.recent_sum = 0
        self.older_sum = 0
        self.latest: datetime | None = None

    def __len__(self) -> int:
        return len(self.recent) + len(self.older)

    def add(self, moment: datetime, persons: int) -> tuple[int, int]:
        """Record one apprehension; the (recent, baseline) sums as of `moment`."""
        if self.latest is not None and moment < self.latest:
            self.recent.append((moment, persons))
            self.recent_sum += persons
            items = [*self.older, *self.recent]
            split, start = moment - self.window, moment - self.window - self.baseline_span
            recent = sum(n for t, n in items if split < t <= moment)
            return recent, sum(n for t, n in items if start < t <= split)
        self.latest = moment
        self.recent.append((moment, persons))
        self.recent_sum += persons
        split = moment - self.window
        while self.recent and self.recent[0][0] <= split:
            item = self.recent.popleft()
            self.recent_sum -= item[1]
            self.older.append(item)
            self.older_sum += item[1]
        start = split - self.baseline_span
        while self.older and self.older[0][0] <= start:
            self.older_sum -= self.older.popleft()[1]
        return self.recent_sum, self.older_sum


def _bucket(moment: datetime, hours: float) -> datetime:
    size = hours * 3600
    return datetime.fromtimestamp((moment.timestamp() // size) * size, tz=moment.tzinfo)


class Router:
    """Rule evaluation with bounded state: surge history, pseudonym sightings, open alerts."""

    def __init__(self, rules: list[RuleConfig], reference: ReferenceData) -> None:
        self.rules = rules
        self.reference = reference
        self.alerts: dict[str, _Open] = {}
        self.surge: dict[str, _SurgeCounts] = {}
        self.sightings: dict[str, list[tuple[datetime, str, AlertEvent]]] = defaultdict(list)
        self._sighting_order: deque[tuple[datetime, str]] = deque()
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
            # A follow-up names the incident by its first event id (wbxincident): same cause.
            return Trigger(rule, record.incident or record.provenance.event_id, bucket)
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
        window = timedelta(hours=rule.window_hours)
        baseline_span = timedelta(days=rule.baseline_days)
        counts = self.surge.setdefault(record.border_section, _SurgeCounts(window, baseline_span))
        recent, baseline = counts.add(record.time, max(1, int(record.data.get("group_size", 1))))
        rate = baseline / (baseline_span / window)
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
            self._sighting_order.append((record.time, pseudonym))
        return trigger

    def _emit(self, trigger: Trigger, record: SharedRecord, event: AlertEvent) -> list[Alert]:
        pccs = self.reference.pccs_covering(record.border_section)
        if not pccs:
            self._unrouted[trigger.rule.id] = self._unrouted.get(trigger.rule.id, 0) + 1
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
        sight = max(
            (timedelta(hours=r.window_hours) for r in self.rules if r.kind == "secondary_movement"),
            default=timedelta(0),
        )
        cutoff = now - sight
        while self._sighting_order and self._sighting_order[0][0] < cutoff:
            _, pseudonym = self._sighting_order.popleft()
            kept = [s for s in self.sightings.get(pseudonym, []) if s[0] >= cutoff]
            if kept:
                self.sightings[pseudonym] = kept
            else:
                self.sightings.pop(pseudonym, None)

    def take_unrouted(self) -> dict[str, int]:
        """Alerts per rule that no PCC covers, since the last call (for the metric)."""
        taken, self._unrouted = self._unrouted, {}
        return taken

    def sizes(self) -> dict[str, int]:
        """Entries held by every structure (docs/processing.md states their bounds)."""
        return {
            "open_alerts": len(self.alerts),
            "alert_expiry": len(self._alert_expiry),
            "surge_sections": len(self.surge),
            "surge_entries": sum(len(c) for c in self.surge.values()),
            "sightings": sum(map(len, self.sightings.values())),
            "sighting_order": len(self._sighting_order),
            "unrouted_rules": len(self._unrouted),
        }

    def state_size(self) -> int:
        """Entries held in all state (for tests of boundedness)."""
        sizes = self.sizes()
        return sizes["open_alerts"] + sizes["surge_entries"] + sizes["sightings"]
