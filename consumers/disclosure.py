"""Statistical disclosure control for published counts (Eurostat-style small-cell rule).

A *group* is the set of cells that break one total down by one dimension (e.g. persons per
nationality in one day). The published total of a group equals the sum of its cells, so an
analyst can always compute `total - sum(visible cells)` = the sum of the hidden cells.

Primary suppression hides every count from 1 to threshold-1. Zero is shown: an empty cell
reveals nobody, and hiding zeros would only make the published table harder to read.

Complementary suppression then hides further cells, smallest visible non-zero first (ties by
key), until both hold:

* at least two cells are hidden, so `total - visible` is a sum of several cells and never
  one hidden cell's exact count;
* the hidden cells add up to at least the threshold, so that difference is not itself a
  small count (two hidden cells of 1 and 1 would otherwise reveal "2 people, 1 and 1").

If the visible non-zero cells run out first, everything non-zero is hidden; the total is then
the sum of hidden cells, and when that sum is small the total is primary-suppressed by
`protect_group`, so the difference is never published either.

Example (threshold 5): {AFG: 10, SYR: 3, IRQ: 6, CUB: 0}, total 19. SYR is primary; hiding
only SYR would give 19 - 10 - 6 - 0 = 3, so IRQ (the smallest visible non-zero) is hidden as
complementary: 19 - 10 - 0 = 9 = SYR + IRQ, which reveals neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

Suppression = Literal["none", "primary", "complementary"]
Published = tuple[int | None, Suppression]
TOTAL = "__total__"
DEFAULT_THRESHOLD = 5


def _check(cells: Mapping[str, int], threshold: int) -> None:
    if threshold < 1:
        raise ValueError(f"threshold must be at least 1, got {threshold}")
    negative = sorted(key for key, count in cells.items() if count < 0)
    if negative:
        raise ValueError(f"counts cannot be negative: {negative}")


def suppress(cells: Mapping[str, int], threshold: int = DEFAULT_THRESHOLD) -> dict[str, Published]:
    """Each cell's published count (None when hidden) and why; see the module docstring."""
    _check(cells, threshold)
    result: dict[str, Published] = {}
    hidden: set[str] = set()
    for key, count in cells.items():
        if 0 < count < threshold:
            result[key] = (None, "primary")
            hidden.add(key)
        else:
            result[key] = (count, "none")
    if not hidden:
        return result
    hidden_sum = sum(cells[key] for key in hidden)
    # Ascending (count, key): the cheapest complement first, and the same choice on every run.
    candidates = sorted((count, key) for key, count in cells.items() if key not in hidden and count)
    for count, key in candidates:
        # (The sum test alone implies two cells, a lone primary being small; kept to be plain.)
        if len(hidden) >= 2 and hidden_sum >= threshold:
            break
        result[key] = (None, "complementary")
        hidden.add(key)
        hidden_sum += count
    return result


def protect_group(
    counts: Mapping[str, int],
    total_key: str = TOTAL,
    threshold: int = DEFAULT_THRESHOLD,
) -> dict[str, Published]:
    """The cells after `suppress` plus the exact total under `total_key` (hidden if small)."""
    if total_key in counts:
        raise ValueError(f"a cell may not be named {total_key!r}: it is the group total's key")
    result = suppress(counts, threshold)
    total = sum(counts.values())
    # A small total is a small cell too: it would reveal that 1..threshold-1 people exist.
    result[total_key] = (None, "primary") if 0 < total < threshold else (total, "none")
    return result
