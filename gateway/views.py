"""In-memory views the gateway serves, rebuilt from Kafka topics at start and kept live.

Alerts: per PCC, the latest revision of each alert with its acknowledgement and escalation
state, plus a bounded log of changes numbered per PCC for Server-Sent Events resume.
Statistics: the fine cells of the most recent days (`wbx.stats.fine.v1`), from which any
table is built on request and protected cell by cell (`schemas.tables`, `schemas.disclosure`).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from schemas import strict_json
from schemas.derived import (
    Alert,
    AlertAction,
    AlertStatus,
    Dimension,
    Measure,
    Period,
    StatCell,
    derived_id,
    window_bounds,
)
from schemas.disclosure import TOTAL, PerturbationTable
from schemas.envelope import agency_of
from schemas.errors import WbxError
from schemas.json_types import parse_rfc3339
from schemas.receipts import Receipt
from schemas.tables import (
    DIMENSIONS_OF,
    MAX_DIMENSIONS,
    Coordinates,
    FineCell,
    TableCell,
    matches,
    tabulate,
)
from schemas.vocab import ImpactLevel


@dataclass
class AlertState:
    """What an operator sees of one alert."""

    alert: Alert
    status: AlertStatus
    received_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    escalated_at: datetime | None = None
    note: str | None = None

    def snapshot(self) -> AlertState:
        """A copy that later acknowledgements or revisions do not change (for the change log)."""
        return replace(self)


@dataclass(frozen=True)
class Removal:
    """An alert gone from the view: its sender's deadline (`retain_until`) passed."""

    alert_id: str


Change = tuple[int, AlertState | Removal]
"""A numbered change of one PCC's view: the sequence number and the alert as it then was,
or its removal."""

QUEUE_SIZE = 1_000
"""Changes queued for one open stream; a client that falls this far behind is dropped and
resumes with Last-Event-ID."""


class PccAlerts:
    """The alert view of one PCC and its change log for streaming.

    Bounds: `capacity` alerts (the oldest leave first) and at most two applied action ids
    each; `backlog` change-log entries; one queue of at most 1,000 changes per open stream.
    """

    def __init__(self, capacity: int, backlog: int) -> None:
        self.capacity = capacity
        self.alerts: OrderedDict[str, AlertState] = OrderedDict()
        self.log: deque[Change] = deque(maxlen=backlog)
        self.seq = 0
        self.subscribers: set[asyncio.Queue[Change | None]] = set()
        self.actions: set[str] = set()

    def _changed(self, state: AlertState | Removal) -> None:
        self.seq += 1
        entry: Change = (self.seq, state.snapshot() if isinstance(state, AlertState) else state)
        self.log.append(entry)
        for queue in list(self.subscribers):
            if queue.qsize() >= QUEUE_SIZE:
                # A stalled client: close its stream; it reconnects with Last-Event-ID.
                self.subscribers.discard(queue)
                queue.put_nowait(None)
            else:
                queue.put_nowait(entry)

    def apply_alert(self, alert: Alert, received_at: datetime) -> None:
        """A new alert or a newer revision of a known one."""
        current = self.alerts.get(alert.id)
        if current is not None and current.alert.revision >= alert.revision:
            return
        if current is None:
            state = AlertState(alert, AlertStatus.OPEN, received_at)
            self.alerts[alert.id] = state
            while len(self.alerts) > self.capacity:
                evicted, _ = self.alerts.popitem(last=False)
                # Action ids derive from the alert id: an evicted alert's can go too.
                self.actions.discard(derived_id("acknowledge", evicted))
                self.actions.discard(derived_id("escalate", evicted))
        else:
            current.alert = alert
            state = current
        self._changed(state)

    def apply_action(self, action: AlertAction) -> bool:
        """Apply an acknowledgement or escalation once; False if unknown or already applied."""
        state = self.alerts.get(action.alert_id)
        if state is None or action.action_id in self.actions:
            return False
        self.actions.add(action.action_id)
        if action.action == "acknowledge":
            if state.acknowledged_at is not None:
                return False
            state.status = AlertStatus.ACKNOWLEDGED
            state.acknowledged_by = action.by
            state.acknowledged_at = action.at
            state.note = action.note
        else:
            if state.acknowledged_at is not None or state.escalated_at is not None:
                return False
            state.status = AlertStatus.ESCALATED
            state.escalated_at = action.at
        self._changed(state)
        return True

    def expire(self, now: datetime) -> list[str]:
        """Drop every alert whose sender's deadline has passed, and every earlier change
        that shows it, so no page, list or stream serves it again; open streams are told
        it is gone. Returns the ids dropped."""
        gone = [alert_id for alert_id, s in self.alerts.items() if s.alert.retain_until <= now]
        if not gone:
            return []
        for alert_id in gone:
            del self.alerts[alert_id]
            self.actions.discard(derived_id("acknowledge", alert_id))
            self.actions.discard(derived_id("escalate", alert_id))
        dropped = set(gone)
        kept = [(seq, s) for seq, s in self.log
                if isinstance(s, Removal) or s.alert.id not in dropped]  # fmt: skip
        self.log = deque(kept, maxlen=self.log.maxlen)
        for alert_id in gone:
            self._changed(Removal(alert_id))
        return gone

    def due_for_escalation(
        self, now: datetime, after: dict[ImpactLevel, timedelta]
    ) -> list[AlertState]:
        """Unacknowledged alerts whose severity's deadline has passed and that are not escalated."""
        due = []
        for state in self.alerts.values():
            limit = after.get(state.alert.severity)
            if limit is None or state.acknowledged_at or state.escalated_at:
                continue
            if now - state.received_at >= limit:
                due.append(state)
        return due

    def since(self, last_seq: int) -> list[Change]:
        """Changes after `last_seq` still in the backlog (for resuming a stream)."""
        return [entry for entry in self.log if entry[0] > last_seq]

    def subscribe(self) -> asyncio.Queue[Change | None]:
        """A queue that receives every change from now on (at most QUEUE_SIZE waiting);
        None in it means: the stream is closed, the client reconnects."""
        queue: asyncio.Queue[Change | None] = asyncio.Queue(maxsize=QUEUE_SIZE + 1)
        self.subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Change | None]) -> None:
        """Stop sending changes to `queue`."""
        self.subscribers.discard(queue)

    def disconnect_all(self) -> int:
        """Close every open stream (at shutdown: clients reconnect to another instance and
        resume with Last-Event-ID); returns how many were open."""
        closing = list(self.subscribers)
        for queue in closing:
            self.subscribers.discard(queue)
            queue.put_nowait(None)  # one slot is always kept free for this
        return len(closing)


def escalation_for(state: AlertState, now: datetime) -> AlertAction:
    """The escalation action of an alert; its id is the same on every gateway instance."""
    return AlertAction(
        action_id=derived_id("escalate", state.alert.id),
        action="escalate",
        alert_id=state.alert.id,
        pcc=state.alert.pcc,
        by="gateway",
        at=now,
    )


class StatsQueryError(WbxError):
    """A statistics query asks for something the published cells cannot answer.

    `template` is English with `{placeholders}` (a catalogue msgid, so the pages can show it
    translated) and `params` fill it; `field` names the query parameter at fault.
    """

    def __init__(self, field: str, template: str, **params: str) -> None:
        self.field = field
        self.template = template
        self.params = params
        super().__init__(template.format(**params))


TOO_MANY = "a table crosses at most {limit} dimensions, not {count}"
REPEATED = "{dimension} is named twice"
NOT_FOR_MEASURE = "{measure} cannot be broken down by {dimension} (count persons)"
BACKWARDS = "the date range ends ({end}) before it starts ({start})"


@dataclass(frozen=True)
class TableQuery:
    """A statistics table: a measure per window of a period, crossed by up to three
    dimensions, over the records that match every filter, for windows starting in a range."""

    period: Period = Period.DAY
    measure: Measure = Measure.PERSONS
    by: tuple[Dimension, ...] = ()
    filters: Mapping[Dimension, tuple[str, ...]] = field(default_factory=dict)
    start: date | None = None
    end: date | None = None

    def checked(self) -> TableQuery:
        """The query, checked; raises StatsQueryError naming the field at fault."""
        filters = {d: v for d, v in self.filters.items() if v}
        by = self.by
        if len(by) > MAX_DIMENSIONS:
            raise StatsQueryError(
                "group_by", TOO_MANY, limit=str(MAX_DIMENSIONS), count=str(len(by))
            )
        if len(set(by)) < len(by):
            twice = next(d for d in by if by.count(d) > 1)
            raise StatsQueryError("group_by", REPEATED, dimension=twice.value)
        allowed = DIMENSIONS_OF[self.measure]
        for field_name, dimension in [*(("group_by", d) for d in by),
                                      *((d.value, d) for d in filters)]:  # fmt: skip
            if dimension not in allowed:
                raise StatsQueryError(
                    field_name, NOT_FOR_MEASURE, measure=self.measure.value,
                    dimension=dimension.value,
                )  # fmt: skip
        if self.start is not None and self.end is not None and self.end < self.start:
            raise StatsQueryError(
                "to", BACKWARDS, start=self.start.isoformat(), end=self.end.isoformat()
            )
        return replace(self, by=by, filters=filters)


class StatsView:
    """The fine cells of the most recent days and the status of their windows, from which
    it builds any table a query asks for, every cell through the perturbation table.

    Bound: `capacity` fine cells. Past it, the oldest days leave (a tenth of the capacity
    at a time, so eviction costs O(1) amortised per cell); windows that reach back to a day
    that left are no longer answered (they would be short).
    """

    def __init__(self, ptable: PerturbationTable, capacity: int = 1_000_000) -> None:
        self.ptable = ptable
        self.capacity = capacity
        self.days: dict[date, dict[Measure, dict[Coordinates, tuple[int, int]]]] = {}
        self.size = 0
        self.floor: date | None = None  # the newest day that left: windows up to it are short
        # Window status as the worker published it (the total cells of wbx.stats.v1).
        self.statuses: dict[tuple[Period, date, Measure], str] = {}

    def apply_fine(self, cell: FineCell) -> None:
        """Keep the newest value of a fine cell (the topic is compacted to the same)."""
        if self.floor is not None and cell.day <= self.floor:
            return  # a day that left for room: taking it back would make its windows short
        cells = self.days.setdefault(cell.day, {}).setdefault(cell.measure, {})
        where = cell.coordinates
        self.size += where not in cells
        cells[where] = (cell.records, cell.key_sum)
        if self.size > self.capacity:
            self._make_room()

    def _make_room(self) -> None:
        target = self.capacity - max(1, self.capacity // 10)
        for day in sorted(self.days):
            if self.size <= target:
                break
            self.size -= sum(len(c) for c in self.days.pop(day).values())
            self.floor = day
        self.statuses = {w: s for w, s in self.statuses.items() if self._complete(w[1])}

    def _complete(self, start: date) -> bool:
        """True when every day of the window is still held (or never left)."""
        return self.floor is None or start > self.floor

    def apply(self, cell: StatCell) -> None:
        """Note the status of the cell's window (every cell of a window has the same)."""
        total = cell.dimension is Dimension.TOTAL and cell.value == TOTAL
        if total and self._complete(cell.window_start):
            self.statuses[(cell.period, cell.window_start, cell.measure)] = cell.status

    def _status(self, period: Period, start: date, end: date, measure: Measure,
                now: datetime) -> Literal["open", "final", "revised"]:  # fmt: skip
        known = self.statuses.get((period, start, measure))
        if known == "revised" or datetime.combine(end, time(), UTC) > now:
            return "revised" if known == "revised" else "open"
        return "final"

    def table(self, query: TableQuery, now: datetime) -> list[TableCell]:
        """The cells of the table a query asks for, margins included, windows in order.

        Raises StatsQueryError for a query it cannot answer (see `TableQuery.checked`).
        """
        q = query.checked()
        wanted = {d: frozenset(v) for d, v in q.filters.items()}
        windows: dict[date, list[date]] = {}
        for day in sorted(self.days):
            start = window_bounds(q.period, day)[0]
            in_range = (q.start is None or start >= q.start) and (q.end is None or start <= q.end)
            if in_range and self._complete(start):
                windows.setdefault(start, []).append(day)
        out: list[TableCell] = []
        for start, days in windows.items():
            _, end = window_bounds(q.period, start)
            cells = (
                (where, counts)
                for day in days
                for where, counts in self.days[day].get(q.measure, {}).items()
                if matches(where, wanted)
            )
            table = tabulate(cells, q.by)
            status = self._status(q.period, start, end, q.measure, now)
            for values in sorted(table, key=lambda v: [(x == TOTAL, x) for x in v]):
                n, keys = table[values]
                shown = self.ptable.publish(n, keys)
                if not shown.count:
                    continue  # a 0 is left out, so it cannot tell a true 0 from a small count
                out.append(
                    TableCell(
                        period=q.period,
                        window_start=start,
                        window_end=end,
                        measure=q.measure,
                        values=dict(zip(q.by, values, strict=True)),
                        count=shown.count,
                        display=shown.display,
                        status=status,
                    )
                )
        return out


class AgencyReceipts:
    """One agency's latest receipts, by the position of the record each is about.

    A receipt issued again for the same record (a worker replayed it after a crash)
    replaces the earlier one. Bound: `capacity` receipts; past it, the oldest leave.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._by_position: OrderedDict[tuple[str, int, int], Receipt] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_position)

    def apply(self, receipt: Receipt) -> None:
        """Keep a receipt read from the agency's topic."""
        position = (receipt.topic, receipt.partition, receipt.offset)
        self._by_position.pop(position, None)
        self._by_position[position] = receipt
        while len(self._by_position) > self.capacity:
            self._by_position.popitem(last=False)

    def query(
        self,
        *,
        verdict: str | None = None,
        event_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> list[Receipt]:
        """The newest receipts first, those that match every filter given, at most `limit`."""
        found: list[Receipt] = []
        for receipt in reversed(self._by_position.values()):
            if verdict is not None and receipt.verdict != verdict:
                continue
            if event_id is not None and receipt.event_id != event_id:
                continue
            if since is not None and receipt.received_at < since:
                continue
            if until is not None and receipt.received_at >= until:
                continue
            found.append(receipt)
            if len(found) >= limit:
                break
        return found


@dataclass(frozen=True, slots=True)
class OwnEvent:
    """One verified event of an agency, byte for byte as signed."""

    event_id: str
    time: datetime
    retain_until: datetime
    raw: bytes


class AgencyEvents:
    """One agency's latest verified events (`wbx.verified.v1`), for its own reading back.

    An event verified again (a worker's replay) replaces itself. Nothing is served or kept
    past its sender's deadline. Bound: `capacity` events; past it, the oldest leave.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._by_id: OrderedDict[str, OwnEvent] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_id)

    def apply(self, event: OwnEvent) -> None:
        """Keep a verified event read from the topic."""
        self._by_id.pop(event.event_id, None)
        self._by_id[event.event_id] = event
        while len(self._by_id) > self.capacity:
            self._by_id.popitem(last=False)

    def expire(self, now: datetime) -> int:
        """Drop every event whose deadline passed; how many left."""
        gone = [k for k, e in self._by_id.items() if e.retain_until <= now]
        for key in gone:
            del self._by_id[key]
        return len(gone)

    def get(self, event_id: str, now: datetime) -> OwnEvent | None:
        """The event with this id, unless unknown or past its deadline."""
        self.expire(now)
        return self._by_id.get(event_id)

    def query(
        self, now: datetime, *, since: datetime | None, until: datetime | None, limit: int
    ) -> list[OwnEvent]:
        """The newest events first (by arrival), with `since <= time < until`, at most
        `limit`."""
        self.expire(now)
        found: list[OwnEvent] = []
        for event in reversed(self._by_id.values()):
            if since is not None and event.time < since:
                continue
            if until is not None and event.time >= until:
                continue
            found.append(event)
            if len(found) >= limit:
                break
        return found


def own_event(raw: bytes) -> tuple[str, OwnEvent]:
    """The agency and the `OwnEvent` of one verified record (ValueError if it is none:
    the worker wrote it, so only a bug or an intruder makes one)."""
    value = strict_json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("a verified record that is not an object")
    try:
        event = OwnEvent(
            event_id=str(value["id"]),
            time=parse_rfc3339(str(value["time"])),
            retain_until=parse_rfc3339(str(value["wbxretainuntil"])),
            raw=raw,
        )
        return agency_of(str(value["source"])), event
    except KeyError as exc:
        raise ValueError(f"a verified record without {exc}") from None
