"""The regional state behind hop 2: statistics, alert rules, what was counted and sent. Pure.

Effectively-once without transactions: the state is a pure function of the records on
`wbx.shared.v1`, and the alert topics record which alerts were already sent. The pipeline
replays both when a worker takes over (`rebuild`), sends the alerts a crash left unsent,
re-publishes every statistics cell (compacted, so idempotent), and records the agent then
receives again are recognised here by their event key and skipped. No Kafka, no clock: the
caller passes records and `now`.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar

from pydantic import ValidationError

from consumers.aggregate import AddResult, StatsState
from consumers.route import Router
from schemas.derived import Alert, SharedRecord, StatCell
from schemas.tables import FineCell

logger = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)

EXPIRE_EVERY = 10_000
"""Records applied between two expiry passes (so expiry costs O(1) amortised per record)."""


class Horizon(Generic[K]):
    """Keys remembered with a time, forgotten once that time is older than `span`.

    Bound: the keys whose time lies within `span` of the latest `expire` cutoff, plus what
    was added since (at most `EXPIRE_EVERY` records' worth, as `RegionalState` expires).
    """

    def __init__(self, span: timedelta) -> None:
        self.span = span
        self._times: dict[K, datetime] = {}
        self._order: list[tuple[datetime, int, K]] = []
        self._added = 0

    def __contains__(self, key: object) -> bool:
        return key in self._times

    def __len__(self) -> int:
        return len(self._times)

    def add(self, key: K, moment: datetime) -> None:
        """Remember `key` as of `moment` (a key already held keeps its first time)."""
        if key not in self._times:
            self._times[key] = moment
            self._added += 1
            heapq.heappush(self._order, (moment, self._added, key))

    def expire(self, now: datetime) -> int:
        """Forget keys older than `now - span`; returns how many."""
        cutoff = now - self.span
        gone = 0
        while self._order and self._order[0][0] < cutoff:
            _, _, key = heapq.heappop(self._order)
            del self._times[key]
            gone += 1
        return gone


class Applied(StrEnum):
    """What `RegionalState.apply` did with a record (the pipeline counts these)."""

    APPLIED = "applied"
    LATE = "late"  # applied to the alert rules; its statistics window had closed
    DUPLICATE = "duplicate"  # a redelivery: already applied
    EXPIRED = "expired"  # past its sender's retention deadline: not used
    TOO_OLD = "too_old"  # older than the horizon: it can change nothing any more


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of applying one record and the alert revisions it makes, not yet sent."""

    outcome: Applied
    alerts: list[Alert] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """What a rebuild found: records replayed, revisions known sent, and those left to send."""

    replayed: int
    known_sent: int
    unsent: list[Alert]


class RegionalState:
    """Statistics, the router, and two bounded sets: events applied and alert revisions sent.

    `horizon` bounds both sets by event time. It must be at least the statistics lateness
    (a forgotten event could otherwise be counted twice) and the longest rule window; records
    older than the horizon are ignored, since they could change nothing.
    """

    def __init__(
        self,
        stats: StatsState,
        router: Router,
        horizon: timedelta,
        opener: Callable[[SharedRecord, datetime], SharedRecord] | None = None,
    ) -> None:
        self.stats = stats
        self.opener = opener
        """Opens a record's sealed values (crypto-shredding) before the rules see it."""
        self.router = router
        self.horizon = horizon
        self.counted: Horizon[str] = Horizon(horizon)
        self.sent: Horizon[tuple[str, int]] = Horizon(horizon)
        self._applied = 0

    def apply(self, record: SharedRecord, now: datetime) -> Result:
        """Apply one shared record once; the alerts (or new revisions) it makes, not yet sent."""
        if record.event_key in self.counted:
            return Result(Applied.DUPLICATE)
        if record.retain_until <= now:
            return Result(Applied.EXPIRED)
        if record.time < now - self.horizon:
            return Result(Applied.TOO_OLD)
        self.counted.add(record.event_key, record.time)
        if self.opener is not None:
            record = self.opener(record, now)
        late = self.stats.add(record, now) is AddResult.TOO_LATE
        alerts = [a for a in self.router.process(record) if (a.id, a.revision) not in self.sent]
        self._applied += 1
        if self._applied % EXPIRE_EVERY == 0:
            self.expire(now)
        return Result(Applied.LATE if late else Applied.APPLIED, alerts)

    def mark_sent(self, alert: Alert) -> None:
        """Remember that an alert revision reached its topic."""
        self.sent.add((alert.id, alert.revision), alert.time)

    def stats_to_publish(self, now: datetime) -> list[StatCell]:
        """Cells of every statistic group that changed since the last call."""
        return self.stats.flush(now)

    def fine_to_publish(self) -> list[FineCell]:
        """Fine cells changed since the last call (for the gateway's tables)."""
        return self.stats.take_fine()

    def expire(self, now: datetime) -> None:
        """Forget what can no longer matter (the router evicts its own state as it goes)."""
        self.counted.expire(now)
        self.sent.expire(now)
        self.stats.evict(now)

    def rebuild(
        self,
        sent_alerts: Iterable[bytes],
        shared: Iterable[bytes | tuple[bytes, datetime]],
        now: datetime,
        stats: Iterable[bytes] = (),
    ) -> Rebuilt:
        """Replay the alert topics, then `wbx.shared.v1`, and note which statistics cells
        `wbx.stats.v1` shows as more than 0 (all at once; the worker streams through
        `Rebuild`, which this uses)."""
        rebuild = Rebuild(self, sent_alerts, stats, now)
        rebuild.replay(shared)
        return rebuild.finish()

    def sizes(self) -> dict[str, int]:
        """Entries held by every structure (bounds are documented in docs/processing.md)."""
        return {
            "counted": len(self.counted),
            "sent": len(self.sent),
            **self.stats.sizes(),
            **self.router.sizes(),
        }


class Rebuild:
    """A rebuild of the regional state, fed `wbx.shared.v1` one batch at a time.

    The alert topics and the statistics topic come first (they are small: bounded by the
    alerts and cells of the horizon); the shared records follow in order, batch by batch,
    so the worker never holds the topic in memory. Unreadable records are skipped here (the
    agent quarantines shared records when it reads them).
    """

    def __init__(
        self,
        state: RegionalState,
        sent_alerts: Iterable[bytes],
        stats: Iterable[bytes],
        now: datetime,
    ) -> None:
        self.state = state
        self.now = now
        self.replayed = 0
        # Bound: the alert revisions the shared records of the horizon raise anew.
        self._unsent: dict[tuple[str, int], Alert] = {}
        state.stats.seed_shown(_readable_cells(stats), now)
        for value in sent_alerts:
            try:
                state.mark_sent(Alert.model_validate_json(value))
            except ValidationError:
                continue

    def replay(self, shared: Iterable[bytes | tuple[bytes, datetime]]) -> None:
        """Apply shared records in topic order.

        A record given with its topic timestamp (when Protect wrote it, so when it was first
        counted) is judged as of then: a record counted in a day that has since closed for
        good still counts in its week and month, as it did before the restart."""
        for item in shared:
            value, at = item if isinstance(item, tuple) else (item, self.now)
            try:
                record = SharedRecord.model_validate_json(value)
                alerts = self.state.apply(record, min(at, self.now)).alerts
            except Exception:  # noqa: S112 - the agent quarantines it when it reads it again
                continue
            for alert in alerts:
                self._unsent[(alert.id, alert.revision)] = alert
            self.replayed += 1

    def finish(self) -> Rebuilt:
        """Every statistics cell due again, and the alert revisions no topic holds yet."""
        self.state.stats.mark_all_dirty()
        sent = self.state.sent
        unsent = [alert for key, alert in self._unsent.items() if key not in sent]
        return Rebuilt(self.replayed, len(sent), unsent)


def _readable_cells(values: Iterable[bytes]) -> Iterator[StatCell]:
    for value in values:
        try:
            yield StatCell.model_validate_json(value)
        except ValidationError:
            continue


__all__ = ["Applied", "Horizon", "Rebuild", "Rebuilt", "RegionalState", "Result"]
