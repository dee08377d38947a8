"""In-memory views the gateway serves, rebuilt from Kafka topics at start and kept live.

Alerts: per PCC, the latest revision of each alert with its acknowledgement and escalation
state, plus a bounded log of changes numbered per PCC for Server-Sent Events resume.
Statistics: the latest value of every cell of the compacted stats topic.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from schemas.derived import (
    Alert,
    AlertAction,
    AlertStatus,
    Dimension,
    Measure,
    Period,
    StatCell,
    derived_id,
)
from schemas.errors import WbxError
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


Change = tuple[int, AlertState]
"""A numbered change of one PCC's view: the sequence number and the alert as it then was."""

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

    def _changed(self, state: AlertState) -> None:
        self.seq += 1
        entry = (self.seq, state.snapshot())
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


ONE_DIMENSION = "filter on one dimension at a time (cells are one-dimensional), not on {dimensions}"
CONFLICT = "group_by={group_by} conflicts with the {dimension} filter"
BACKWARDS = "the date range ends ({end}) before it starts ({start})"


class StatsView:
    """The latest published value of every statistics cell, for the most recent windows.

    Bound: `capacity` cells. Past it, the cells of the oldest windows leave first (a tenth
    of the capacity at a time, so eviction costs O(1) amortised per cell).
    """

    def __init__(self, capacity: int = 1_000_000) -> None:
        self.capacity = capacity
        self.cells: dict[str, StatCell] = {}

    def apply(self, cell: StatCell) -> None:
        """Keep the newest value of a cell (the topic is compacted to the same)."""
        self.cells[cell.key] = cell
        if len(self.cells) > self.capacity:
            keep = self.capacity - max(1, self.capacity // 10)
            newest = sorted(self.cells.values(), key=lambda c: c.window_start, reverse=True)
            self.cells = {c.key: c for c in newest[:keep]}

    def query(
        self,
        period: Period,
        measure: Measure,
        group_by: Dimension,
        *,
        values: Iterable[str] | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> list[StatCell]:
        """Cells of one breakdown, optionally restricted to values and a date range."""
        wanted = set(values) if values else None
        rows = [
            c
            for c in self.cells.values()
            if c.period is period
            and c.measure is measure
            and c.dimension is group_by
            and (wanted is None or c.value in wanted)
            and (start is None or c.window_start >= start)
            and (end is None or c.window_start <= end)
        ]
        return sorted(rows, key=lambda c: (c.window_start, c.value))

    def select(
        self,
        period: Period,
        measure: Measure,
        group_by: Dimension | None,
        filters: dict[Dimension, list[str] | None],
        start: date | None = None,
        end: date | None = None,
    ) -> tuple[Dimension, list[StatCell]]:
        """The breakdown a query asks for and its cells: a filter implies its dimension.

        Raises StatsQueryError for filters on two dimensions, a `group_by` that contradicts
        the filter, or a date range that ends before it starts.
        """
        named = {d: v for d, v in filters.items() if v}
        if len(named) > 1:
            names = ", ".join(d.value for d in named)
            raise StatsQueryError(next(iter(named)).value, ONE_DIMENSION, dimensions=names)
        if start is not None and end is not None and end < start:
            raise StatsQueryError("to", BACKWARDS, start=start.isoformat(), end=end.isoformat())
        if named:
            dimension, values = next(iter(named.items()))
            if group_by is not None and group_by is not dimension:
                raise StatsQueryError(
                    "group_by", CONFLICT, group_by=group_by.value, dimension=dimension.value
                )
        else:
            dimension, values = group_by or Dimension.TOTAL, None
        cells = self.query(period, measure, dimension, values=values, start=start, end=end)
        return dimension, cells
