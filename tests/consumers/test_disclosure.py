"""Disclosure control: the small-cell rule with complementary suppression."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consumers.disclosure import TOTAL, protect_group, suppress

KEYS = st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "h", "AFG", "SYR"])
COUNT_MAPS = st.dictionaries(KEYS, st.integers(0, 40), min_size=1)


def hidden(result: dict[str, tuple[int | None, str]]) -> set[str]:
    return {key for key, (count, _) in result.items() if count is None}


def test_single_small_cell_takes_the_smallest_visible_cell_as_complement():
    result = suppress({"a": 2, "b": 50, "c": 7, "d": 0, "e": 9})
    assert result == {
        "a": (None, "primary"),
        "b": (50, "none"),
        "c": (None, "complementary"),
        "d": (0, "none"),
        "e": (9, "none"),
    }


def test_two_small_cells_summing_below_threshold_get_a_third_hidden():
    result = suppress({"a": 1, "b": 2, "c": 7, "d": 9})
    assert hidden(result) == {"a", "b", "c"}
    assert result["c"] == (None, "complementary")


def test_two_small_cells_summing_to_threshold_need_no_complement():
    result = suppress({"a": 3, "b": 2, "c": 7})
    assert hidden(result) == {"a", "b"}
    assert result["c"] == (7, "none")


def test_three_tiny_cells_take_complements_until_the_hidden_sum_reaches_threshold():
    result = suppress({"a": 1, "b": 1, "c": 1, "d": 6, "e": 8})
    assert hidden(result) == {"a", "b", "c", "d"}


def test_ties_are_broken_by_key():
    assert hidden(suppress({"a": 2, "y": 9, "x": 9})) == {"a", "x"}
    assert hidden(suppress({"y": 9, "x": 9, "a": 2})) == {"a", "x"}


def test_zero_is_never_suppressed_and_never_used_as_complement():
    result = suppress({"a": 0, "b": 3, "c": 0, "d": 12})
    assert result["a"] == (0, "none") and result["c"] == (0, "none")
    assert result["d"] == (None, "complementary")


def test_all_large_or_zero_means_no_suppression():
    cells = {"a": 5, "b": 0, "c": 120}
    assert suppress(cells) == {k: (v, "none") for k, v in cells.items()}


def test_the_threshold_is_a_parameter():
    assert hidden(suppress({"a": 7, "b": 30, "c": 11}, threshold=10)) == {"a", "c"}
    assert hidden(suppress({"a": 1, "b": 30}, threshold=1)) == set()


def test_group_total_is_exact_even_when_cells_are_hidden():
    result = protect_group({"AFG": 10, "SYR": 3, "IRQ": 6, "CUB": 0})
    assert result["SYR"] == (None, "primary")
    assert result["IRQ"] == (None, "complementary")
    assert result["AFG"] == (10, "none") and result["CUB"] == (0, "none")
    assert result[TOTAL] == (19, "none")


def test_small_group_total_is_itself_suppressed_and_zero_total_shown():
    assert protect_group({"a": 3, "b": 1})[TOTAL] == (None, "primary")
    assert protect_group({"a": 0})[TOTAL] == (0, "none")
    assert protect_group({"a": 3, "b": 2})[TOTAL] == (5, "none")


def test_total_key_is_configurable_and_may_not_clash_with_a_cell():
    assert protect_group({"a": 6}, total_key="all")["all"] == (6, "none")
    with pytest.raises(ValueError, match="__total__"):
        protect_group({TOTAL: 6})


def test_negative_counts_and_bad_thresholds_are_refused():
    with pytest.raises(ValueError, match="negative"):
        suppress({"a": -1})
    with pytest.raises(ValueError, match="threshold"):
        suppress({"a": 1}, threshold=0)


@given(COUNT_MAPS)
def test_total_minus_visible_never_reveals_a_single_hidden_cell(counts: dict[str, int]):
    result = suppress(counts)
    assert result.keys() == counts.keys()
    for key, (count, why) in result.items():
        if count is not None:
            assert count == counts[key] and why == "none" and not 0 < count < 5
        else:
            assert counts[key] > 0  # zeros are shown
            assert (why == "primary") == (counts[key] < 5)
    gone = hidden(result)
    everything_nonzero_hidden = all(counts[k] == 0 for k in counts.keys() - gone)
    assert (
        not gone
        or (len(gone) >= 2 and sum(counts[k] for k in gone) >= 5)
        or everything_nonzero_hidden
    )


@given(COUNT_MAPS)
def test_a_published_total_never_exposes_a_small_difference(counts: dict[str, int]):
    result = protect_group(counts)
    total, _ = result.pop(TOTAL)
    assert total is None or total == sum(counts.values())
    if total is not None:
        difference = total - sum(count for count, _ in result.values() if count is not None)
        gone = hidden(result)
        assert difference == sum(counts[k] for k in gone)
        assert difference == 0 or (len(gone) >= 2 and difference >= 5)


@given(COUNT_MAPS)
def test_suppression_is_minimal_and_does_not_depend_on_insertion_order(counts: dict[str, int]):
    result = suppress(counts)
    assert suppress(dict(reversed(list(counts.items())))) == result
    complementary = [k for k, (_, why) in result.items() if why == "complementary"]
    if complementary:
        # Without the last (largest) complement the rule would not yet be satisfied.
        last = max(complementary, key=lambda k: (counts[k], k))
        rest = hidden(result) - {last}
        assert len(rest) < 2 or sum(counts[k] for k in rest) < 5
