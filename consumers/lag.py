"""Lag of every assigned partition, and which of them are behind without moving.

Pure state fed by the pipeline's lag timer: a partition the worker was assigned but never
fetched has no high watermark from a fetch, so the timer asks the broker for its end, and
its position is the committed offset. A partition that is behind and has not moved for
`stall_after` seconds is stalled: the worker says so (metric, log, readiness) instead of
reporting a lag of 0 for a partition nobody reads.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
"""A partition, however the caller names it."""


@dataclass(frozen=True)
class PartitionLag:
    """How far one partition is behind, and for how long it has been behind unmoved."""

    lag: int
    unmoved_for: float
    stalled: bool


@dataclass
class _Seen:
    position: int
    since: float


class LagWatch(Generic[K]):
    """Lag and stalls of the assigned partitions.

    Bounded by the assignment: `observe` forgets every partition it is not given.
    """

    def __init__(self, stall_after: float) -> None:
        self.stall_after = stall_after
        self._seen: dict[K, _Seen] = {}

    def observe(self, partitions: Mapping[K, tuple[int, int]], now: float) -> dict[K, PartitionLag]:
        """Each partition's lag from its (end offset, position); `now` is monotonic seconds."""
        found: dict[K, PartitionLag] = {}
        for tp, (end, position) in partitions.items():
            lag = max(0, end - position)
            seen = self._seen.get(tp)
            # The clock starts when the partition is behind and stops moving: one idle at
            # its end for an hour is not stalled the moment a record arrives.
            if seen is None or seen.position != position or lag == 0:
                seen = self._seen[tp] = _Seen(position, now)
            unmoved = now - seen.since
            found[tp] = PartitionLag(lag, unmoved, lag > 0 and unmoved >= self.stall_after)
        for gone in set(self._seen) - set(partitions):
            del self._seen[gone]
        return found
