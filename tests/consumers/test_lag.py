"""The lag watch: lag of every assigned partition, stalls named, nothing kept for revoked ones."""

from __future__ import annotations

from consumers.lag import LagWatch


def test_a_partition_behind_and_unmoved_is_stalled_after_the_limit_not_before():
    watch: LagWatch[str] = LagWatch(stall_after=60)
    assert not watch.observe({"ingest-3": (500, 0)}, now=0)["ingest-3"].stalled
    assert not watch.observe({"ingest-3": (500, 0)}, now=59)["ingest-3"].stalled
    found = watch.observe({"ingest-3": (800, 0)}, now=60)["ingest-3"]
    assert (found.lag, found.unmoved_for, found.stalled) == (800, 60, True)


def test_a_partition_that_moves_is_never_stalled_however_far_behind():
    watch: LagWatch[str] = LagWatch(stall_after=10)
    for step in range(10):
        found = watch.observe({"p": (10_000, step * 100)}, now=step * 9.0)["p"]
        assert not found.stalled and found.lag == 10_000 - step * 100


def test_the_clock_starts_when_an_idle_partition_falls_behind_not_when_it_last_moved():
    watch: LagWatch[str] = LagWatch(stall_after=60)
    watch.observe({"p": (40, 40)}, now=0)
    assert watch.observe({"p": (40, 40)}, now=3600)["p"].lag == 0
    found = watch.observe({"p": (41, 40)}, now=3601)["p"]
    assert (found.lag, found.stalled) == (1, False)
    assert watch.observe({"p": (45, 40)}, now=3661)["p"].stalled


def test_revoked_partitions_are_forgotten():
    watch: LagWatch[str] = LagWatch(stall_after=1)
    watch.observe({"a": (5, 0), "b": (5, 0)}, now=0)
    watch.observe({"b": (5, 0)}, now=5)
    # "a" comes back later: its clock starts again rather than carrying the old one.
    assert not watch.observe({"a": (5, 0), "b": (5, 0)}, now=5.5)["a"].stalled
    assert len(watch._seen) == 2
