"""The benchmark judges each figure against its target in the right direction."""

from __future__ import annotations

import pytest

from wbx.bench import Target


def test_a_floor_is_missed_below_it_by_how_many_times_it_falls_short():
    ratio = Target("one worker / ceiling", ">=", 0.5, 0.2, "x")
    assert not ratio.met and ratio.factor == pytest.approx(2.5)
    assert Target("one worker / ceiling", ">=", 0.5, 0.6, "x").met


def test_a_ceiling_is_missed_above_it_by_how_many_times_it_overshoots():
    latency = Target("p99", "<=", 250, 1000, "ms")
    assert not latency.met and latency.factor == pytest.approx(4.0)
    assert Target("p99", "<=", 250, 249, "ms").met


def test_a_figure_that_was_never_measured_is_not_met():
    assert not Target("two workers / one", ">=", 1.5, 0.0, "x").met
