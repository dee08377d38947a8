"""Disclosure control: the cell key method's perturbation table and its rules."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.disclosure import KEY_SPACE, Published, load_ptable, person_key
from schemas.errors import ConfigurationError
from tests.factories import PTABLE

KEYS = st.integers(0, KEY_SPACE - 1)


@given(count=st.integers(0, 10_000), cell_key=KEYS)
def test_zero_stays_zero_1_to_4_never_shows_and_the_rest_moves_at_most_2(count, cell_key):
    shown = PTABLE.publish(count, cell_key)
    assert shown.display == str(shown.count) and not 0 < shown.count < 5
    if count == 0:
        assert shown == Published(0, "0")
    elif count < 5:
        assert shown.count in (0, 5)  # neither says whether anybody is behind the cell
    else:
        assert shown.count >= 5 and abs(shown.count - count) <= 2
    assert PTABLE.publish(count, cell_key) == shown  # the same cell, the same value


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 6, 7, 12, 400])
def test_over_the_key_space_the_noise_follows_the_table_and_is_unbiased(count):
    steps = 100_000
    values = Counter(PTABLE.publish(count, k * KEY_SPACE // steps).count for k in range(steps))
    row = PTABLE.spec.rows[min(count, len(PTABLE.spec.rows)) - 1]
    for outcome in row.outcomes:
        share = values[count + outcome.noise] / steps
        assert share == pytest.approx(outcome.probability, abs=1e-4)
    mean = sum(v * n for v, n in values.items()) / steps
    assert mean == pytest.approx(count, abs=1e-3)


def test_what_an_analyst_can_conclude_from_one_cell():
    assert list(PTABLE.possible_counts(Published(0, "0"), 100)) == [0, 1, 2, 3, 4]
    assert list(PTABLE.possible_counts(Published(5, "5"), 100)) == [1, 2, 3, 4, 5, 6, 7]
    assert list(PTABLE.possible_counts(Published(6, "6"), 100)) == [6, 7, 8]
    assert list(PTABLE.possible_counts(Published(10, "10"), 100)) == [8, 9, 10, 11, 12]


def test_person_keys_are_fixed_and_differ_between_the_persons_of_an_event():
    keys = [person_key(123_456, i) for i in range(50)]
    assert keys == [person_key(123_456, i) for i in range(50)]
    assert len(set(keys)) == 50 and all(0 <= k < KEY_SPACE for k in keys)


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ('outcomes = [{ noise = 1, probability = 1.0 }]', "biased"),
        ('outcomes = [{ noise = -3, probability = 0.5 }, { noise = 3, probability = 0.5 }]',
         "noise -3 would publish -2"),
        ('outcomes = [{ noise = 0, probability = 0.4 }]', "add up to 0.4"),
    ],
)  # fmt: skip
def test_a_table_that_breaks_a_rule_is_refused_with_the_row_named(tmp_path: Path, row, words):
    path = tmp_path / "ptable.toml"
    path.write_text(f"small = 1\nmax_noise = 2\n[[rows]]\ncount = 1\n{row}\n")
    with pytest.raises(ConfigurationError, match=words) as caught:
        load_ptable(path)
    assert str(path) in str(caught.value)


SMALL_ROWS = "".join(
    f"[[rows]]\ncount = {n}\noutcomes = [{{ noise = {-n}, probability = {1 - n / 5} }}, "
    f"{{ noise = {5 - n}, probability = {n / 5} }}]\n"
    for n in range(1, 5)
)


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ("count = 5\noutcomes = [{ noise = -1, probability = 0.5 }, "
         "{ noise = 1, probability = 0.5 }]", "noise -1 would publish 4, a value of 1-4"),
        ("count = 5\noutcomes = [{ noise = 0, probability = 0.5 }, "
         "{ noise = 3, probability = 0.5 }]", "noise 3 > max_noise"),
        ("count = 6\noutcomes = [{ noise = 0, probability = 1.0 }]", "rows must be counts 1, 2"),
    ],
)  # fmt: skip
def test_a_table_that_would_publish_1_to_4_is_refused(tmp_path: Path, row, words):
    path = tmp_path / "ptable.toml"
    path.write_text(f"small = 5\nmax_noise = 2\n{SMALL_ROWS}[[rows]]\n{row}\n")
    with pytest.raises(ConfigurationError, match=re.escape(words)):
        load_ptable(path)
    good = "count = 5\noutcomes = [{ noise = 0, probability = 1.0 }]"
    path.write_text(f"small = 5\nmax_noise = 2\n{SMALL_ROWS}[[rows]]\n{good}\n")
    assert load_ptable(path).publish(3, 0).count == 0
