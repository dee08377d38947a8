"""Statistical disclosure control for published counts (Eurostat-style small-cell rule).

Primary suppression hides every count from 1 to threshold-1 (zero is shown: an empty cell
reveals nobody). Complementary suppression then hides the smallest visible non-zero cells
until at least two cells are hidden and the hidden cells add up to at least the threshold,
so that "total minus the visible cells" neither reveals one hidden cell nor a tiny sum.
Totals stay exact, except a total that is itself a small count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

Suppression = Literal["none", "primary", "complementary"]
TOTAL = "__total__"


def suppress(
    cells: Mapping[str, int], threshold: int = 5
) -> dict[str, tuple[int | None, Suppression]]:
    """Each cell's published count (None when hidden) and why it was hidden."""
    result: dict[str, tuple[int | None, Suppression]] = {}
    hidden: list[str] = []
    for key, count in cells.items():
        if 0 < count < threshold:
            result[key] = (None, "primary")
            hidden.append(key)
        else:
            result[key] = (count, "none")
    if not hidden:
        return result
    visible = sorted(
        (count, key) for key, count in cells.items() if key not in hidden and count > 0
    )
    while visible and (len(hidden) < 2 or sum(cells[k] for k in hidden) < threshold):
        _, key = visible.pop(0)
        result[key] = (None, "complementary")
        hidden.append(key)
    return result


def protect_group(
    cells: Mapping[str, int], threshold: int = 5
) -> dict[str, tuple[int | None, Suppression]]:
    """Suppress a group's cells and add its exact total under `__total__`."""
    result = suppress(cells, threshold)
    total = sum(cells.values())
    result[TOTAL] = (None, "primary") if 0 < total < threshold else (total, "none")
    return result
