"""The analysts' dashboard as data: which cells a view shows, the chart and the table of them.

Pure functions over published cells (already through disclosure control): the chart, the
table and the CSV are built from one list of rows, so they cannot disagree, and a suppressed
cell is `<5` in all three (a gap in the chart, never 0).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from babel.dates import format_date

from gateway.views import StatsQueryError, StatsView
from gateway.web.i18n import EVENT_TYPE_LABELS, N_, VULNERABILITY_LABELS, Translator
from schemas.derived import Dimension, Measure, Period, StatCell

TOTAL_VALUE = "__total__"
TOP_CHOICES = (5, 10, 20, 0)
"""How many nationalities the chart shows (0: all of them)."""
DEFAULT_TOP = 10
MINOR_FLAGS = ["uam", "separated_child"]
"""The vulnerability flags the "unaccompanied minors" view counts."""
MAX_VALUES = 8
"""Bound on the values a filter list may name (the reference lists are shorter)."""


class View(StrEnum):
    """What the dashboard breaks the counts down by."""

    PARTICIPANT = "participant"
    BORDER_SECTION = "border_section"
    EVENT_TYPE = "event_type"
    NATIONALITY = "nationality"
    MINORS = "minors"
    TOTAL = "total"


VIEW_LABELS = {
    View.PARTICIPANT: N_("Participant"),
    View.BORDER_SECTION: N_("Border section"),
    View.EVENT_TYPE: N_("Event type"),
    View.NATIONALITY: N_("Nationality"),
    View.MINORS: N_("Unaccompanied and separated children"),
    View.TOTAL: N_("Total only"),
}
"""msgids of the views."""
PROBLEMS = (
    N_("filter on one dimension at a time (cells are one-dimensional), not on {dimensions}"),
    N_("group_by={group_by} conflicts with the {dimension} filter"),
    N_("the date range ends ({end}) before it starts ({start})"),
)
"""The templates of `StatsQueryError` (gateway/views.py) as msgids, shown translated."""
FIELD_LABELS = {
    "view": N_("Break down by"),
    "group_by": N_("Break down by"),
    "measure": N_("Count"),
    "period": N_("Period"),
    "from": N_("From"),
    "to": N_("To"),
    "participant": N_("Participant"),
    "border_section": N_("Border section"),
    "event_type": N_("Event type"),
}
"""The form field each query error points at, as msgids (ids are the fields' element ids)."""
DIMENSION_OF = {
    View.PARTICIPANT: Dimension.PARTICIPANT,
    View.BORDER_SECTION: Dimension.BORDER_SECTION,
    View.EVENT_TYPE: Dimension.EVENT_TYPE,
    View.NATIONALITY: Dimension.NATIONALITY,
    View.MINORS: Dimension.VULNERABILITY,
    View.TOTAL: Dimension.TOTAL,
}
FIXED_MEASURE = {
    View.EVENT_TYPE: Measure.EVENTS,
    View.NATIONALITY: Measure.PERSONS,
    View.MINORS: Measure.PERSONS,
}
"""Views published for one measure only (event types count events; people have nationalities)."""


@dataclass(frozen=True)
class Query:
    """A dashboard query, read from the page's form (GET), with the defaults filled in."""

    view: View = View.PARTICIPANT
    measure: Measure = Measure.PERSONS
    period: Period = Period.DAY
    start: date | None = None
    end: date | None = None
    participant: tuple[str, ...] = ()
    border_section: tuple[str, ...] = ()
    event_type: tuple[str, ...] = ()
    top: int = DEFAULT_TOP

    @property
    def effective_measure(self) -> Measure:
        """The measure the view is published for."""
        return FIXED_MEASURE.get(self.view, self.measure)


@dataclass(frozen=True)
class FormError:
    """A field of the form that cannot be used, with a msgid and its parameters."""

    where: str
    template: str
    params: Mapping[str, str] = field(default_factory=dict)


def parse_query(params: Mapping[str, list[str]]) -> tuple[Query, list[FormError]]:
    """The query in a form's parameters; what cannot be read is named, never guessed."""
    errors: list[FormError] = []

    def one(name: str, kind: type[StrEnum], default: StrEnum) -> StrEnum:
        raw = (params.get(name) or [""])[0]
        if not raw:
            return default
        try:
            return kind(raw)
        except ValueError:
            errors.append(
                FormError(
                    name,
                    N_('"{value}" is not one of the choices'),
                    {"value": raw},
                )
            )
            return default

    def day(name: str) -> date | None:
        raw = (params.get(name) or [""])[0]
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors.append(
                FormError(
                    name,
                    N_('"{value}" is not a date (YYYY-MM-DD)'),
                    {"value": raw},
                )
            )
            return None

    def values(name: str) -> tuple[str, ...]:
        chosen = tuple(dict.fromkeys(v for v in params.get(name, []) if v))
        if len(chosen) > MAX_VALUES:
            errors.append(
                FormError(
                    name,
                    N_("choose at most {limit} values"),
                    {"limit": str(MAX_VALUES)},
                )
            )
            return chosen[:MAX_VALUES]
        return chosen

    raw_top = (params.get("top") or [str(DEFAULT_TOP)])[0]
    top = int(raw_top) if raw_top.isdigit() and int(raw_top) in TOP_CHOICES else DEFAULT_TOP
    query = Query(
        view=View(one("view", View, View.PARTICIPANT)),
        measure=Measure(one("measure", Measure, Measure.PERSONS)),
        period=Period(one("period", Period, Period.DAY)),
        start=day("from"),
        end=day("to"),
        participant=values("participant"),
        border_section=values("border_section"),
        event_type=values("event_type"),
        top=top,
    )
    return query, errors


@dataclass(frozen=True)
class Row:
    """One published cell as the table shows it (and the CSV writes it)."""

    cell: StatCell
    label: str
    window: str

    @property
    def count_text(self) -> str:
        """The count as published: a number, or the cell's display (`<5`)."""
        return self.cell.display if self.cell.count is None else str(self.cell.count)


@dataclass
class Dashboard:
    """Everything the page shows for one query."""

    query: Query
    dimension: Dimension
    rows: list[Row]
    series: list[str]
    all_values: int
    chart: dict[str, object]
    total: int
    suppressed_totals: int
    errors: list[FormError]


def label_of(dimension: Dimension, value: str, t: Translator) -> str:
    """A cell's value named in the user's language."""
    if value == TOTAL_VALUE:
        return t.gettext("Total")
    if dimension is Dimension.PARTICIPANT:
        return t.country(value)
    if dimension is Dimension.BORDER_SECTION:
        return t.section(value)
    if dimension is Dimension.NATIONALITY:
        return t.nationality(value)
    if dimension is Dimension.EVENT_TYPE:
        return t.gettext(EVENT_TYPE_LABELS.get(value, value))
    if dimension is Dimension.VULNERABILITY:
        return t.gettext(VULNERABILITY_LABELS.get(value, value))
    if dimension is Dimension.TOTAL:
        return t.gettext("Total")
    return value


def window_label(period: Period, start: date, t: Translator) -> str:
    """A window named for the locale: a date, "week of" a date, or a month and year."""
    if period is Period.MONTH:
        return format_date(start, "LLLL y", locale=t.locale)
    if period is Period.WEEK:
        return t.gettext("week of {date}").format(date=t.date(start))
    return t.date(start)


def build(stats: StatsView, query: Query, errors: list[FormError], t: Translator) -> Dashboard:
    """The rows, series and chart of a query; a query the cells cannot answer is an error."""
    dimension = DIMENSION_OF[query.view]
    measure = query.effective_measure
    filters: dict[Dimension, list[str] | None] = {
        Dimension.PARTICIPANT: list(query.participant),
        Dimension.BORDER_SECTION: list(query.border_section),
        Dimension.EVENT_TYPE: list(query.event_type),
    }
    if query.view is View.MINORS:
        filters[Dimension.VULNERABILITY] = MINOR_FLAGS
    cells: list[StatCell] = []
    try:
        dimension, cells = stats.select(
            query.period, measure, dimension, filters, query.start, query.end
        )
    except StatsQueryError as exc:
        where = "view" if exc.field in ("group_by", "vulnerability") else exc.field
        errors = [*errors, FormError(where, exc.template, exc.params)]
    # The group's published total per window (exact unless itself 1-4). The minors view is a
    # subset of the vulnerability group, whose total counts every flag, so it shows none.
    if dimension is Dimension.TOTAL:
        totals, cells = cells, []
    elif query.view is View.MINORS or errors:
        totals = []
    else:
        totals = stats.query(
            query.period, measure, dimension, values=[TOTAL_VALUE], start=query.start, end=query.end
        )
        cells = [c for c in cells if c.value != TOTAL_VALUE]
    weight: dict[str, int] = {}
    for c in cells:
        weight[c.value] = weight.get(c.value, 0) + (c.count or 0)
    ranked = sorted(weight, key=lambda v: (-weight[v], v))
    series = ranked[: query.top] if query.view is View.NATIONALITY and query.top else ranked
    shown = set(series)
    kept = sorted(
        [c for c in cells if c.value in shown] + totals,
        key=lambda c: (c.window_start, c.value == TOTAL_VALUE, c.value),
    )
    rows = [
        Row(c, label_of(dimension, c.value, t), window_label(query.period, c.window_start, t))
        for c in kept
    ]
    windows = sorted({c.window_start for c in kept})
    by_key = {(c.window_start, c.value): c for c in kept}
    # The totals are charted only when they are all there is (they would flatten the rest).
    charted = series or ([TOTAL_VALUE] if totals else [])
    chart: dict[str, object] = {
        "kind": "line" if len(windows) > 1 else "bar",
        "labels": [window_label(query.period, w, t) for w in windows],
        "series": [
            {
                "value": value,
                "label": label_of(dimension, value, t),
                "data": [_count(by_key.get((w, value))) for w in windows],
                "suppressed": [_hidden(by_key.get((w, value))) for w in windows],
            }
            for value in charted
        ],
    }
    total = sum(c.count for c in totals if c.count is not None)
    suppressed_totals = sum(1 for c in totals if c.count is None)
    return Dashboard(
        query, dimension, rows, series, len(ranked), chart, total, suppressed_totals, errors
    )


def _count(cell: StatCell | None) -> int | None:
    return None if cell is None else cell.count


def _hidden(cell: StatCell | None) -> bool:
    return cell is not None and cell.suppressed


CSV_COLUMNS = [
    "period",
    "window_start",
    "window_end",
    "measure",
    "dimension",
    "value",
    "label",
    "count",
]


def to_csv(board: Dashboard) -> str:
    """Exactly the table on screen: the same rows, the same `<5` for suppressed cells."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in board.rows:
        c = row.cell
        writer.writerow(
            [
                c.period.value,
                c.window_start.isoformat(),
                c.window_end.isoformat(),
                c.measure.value,
                c.dimension.value,
                c.value,
                row.label,
                row.count_text,
            ]
        )
    return out.getvalue()
