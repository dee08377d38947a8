"""The reliability figures: what each reliability test measured, as one table.

A test records its figures with `record_figures(request, name, **figures)`; at the end of
the run the suite prints them (`make test` the short versions', `make reliability` the long
ones') and, with `--figures FILE`, writes them as JSON for `docs/reliability.md`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest

COLUMNS = (
    ("test", "test"),
    ("inputs", "inputs"),
    ("crashes", "crashes"),
    ("status_5xx", "5xx"),
    ("lost", "lost"),
    ("double_counted", "double-counted"),
    ("duplicate_alerts", "duplicate alerts"),
    ("leaks", "leaks"),
    ("rss_mib", "RSS MiB start → end"),
    ("lag_max", "lag max"),
    ("redone", "redone"),
    ("seconds", "seconds"),
)
KEY = "figures"


def record_figures(request: pytest.FixtureRequest, test: str, **figures: Any) -> None:
    """Attach a reliability test's figures to its report (printed at the end of the run)."""
    request.node.user_properties.append((KEY, {"test": test, **figures}))


def figures_of(reports: Iterable[Any]) -> list[dict[str, Any]]:
    """Every figures row attached to the given test reports, in run order."""
    return [value for report in reports for key, value in report.user_properties if key == KEY]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple | list) and len(value) == 2:
        return f"{value[0]:.0f} → {value[1]:.0f}"
    if isinstance(value, float):
        return f"{value:.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table, one line per test, `-` where a test measures nothing."""
    lines = [
        "| " + " | ".join(title for _, title in COLUMNS) + " |",
        "|" + "|".join(" --- " for _ in COLUMNS) + "|",
    ]
    lines += ["| " + " | ".join(_cell(row.get(key)) for key, _ in COLUMNS) + " |" for row in rows]
    return "\n".join(lines)


def class_table(classes: Mapping[str, Mapping[str, int]]) -> str:
    """Hostile inputs by class and path: how many were tried, as a Markdown table."""
    paths = sorted({path for counts in classes.values() for path in counts})
    lines = [
        "| class | " + " | ".join(paths) + " |",
        "|" + "|".join(" --- " for _ in range(len(paths) + 1)) + "|",
    ]
    for kind in sorted(classes):
        cells = [f"{classes[kind].get(path, 0):,}" for path in paths]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
