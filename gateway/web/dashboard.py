"""The analysts' dashboard as data: which table a view asks for, the chart and the rows.

Pure functions over protected table cells (`StatsView.table`, the same as `/v1/stats`): the
chart, the table and the CSV are built from one list of rows, so they cannot disagree. A
cell a table leaves out was published as 0 (none, or fewer than 5): the chart draws 0 there.
One breakdown is charted; a breakdown crossed with one or two more dimensions is a table
with its margins.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from babel.dates import format_date

from gateway.views import StatsQueryError, StatsView, TableQuery
from gateway.web.i18n import (
    EVENT_TYPE_LABELS,
    N_,
    NATIONALITY_NAMES,
    SEX_LABELS,
    VULNERABILITY_LABELS,
    Translator,
)
from schemas.derived import Dimension, Measure, Period
from schemas.tables import EVENT_DIMENSIONS, PERSON_DIMENSIONS, TableCell

TOTAL_VALUE = "__total__"
TOP_CHOICES = (5, 10, 20, 0)
"""How many nationalities the chart shows (0: all of them)."""
DEFAULT_TOP = 10
UNKNOWN_LABEL = NATIONALITY_NAMES["unknown"]
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
PROTECTION_NOTE = (
    N_(
        "Every figure is protected: it is shifted by a small, fixed noise of at most 2 drawn "
        "from the records behind it, and a count from 1 to 4 is shown as 0 or 5, so a 0 means "
        "fewer than 5 (perhaps none) and a 5 means 1 to 7. The same cell always shows the "
        "same value, so repeating, combining or watching queries reveals nothing about fewer "
        "than 5 people. Rows of 0 are left out of the table."
    ),
    N_(
        "A total is a protected cell of its own, so it may differ a little from the sum of "
        "the cells it totals."
    ),
)
"""How the figures were protected, for the page and the CSV (msgids)."""
CROSS_LABELS = {
    Dimension.PARTICIPANT: N_("Participant"),
    Dimension.BORDER_SECTION: N_("Border section"),
    Dimension.EVENT_TYPE: N_("Event type"),
    Dimension.NATIONALITY: N_("Nationality"),
    Dimension.SEX: N_("Sex"),
    Dimension.AGE_BAND: N_("Age band"),
    Dimension.VULNERABILITY: N_("Vulnerability"),
}
"""The dimensions a breakdown can be crossed with, and their column headings (msgids)."""
PROBLEMS = (
    N_("a table crosses at most {limit} dimensions, not {count}"),
    N_("{dimension} is named twice"),
    N_("{measure} cannot be broken down by {dimension} (count persons)"),
    N_("the date range ends ({end}) before it starts ({start})"),
)
"""The templates of `StatsQueryError` (gateway/views.py) as msgids, shown translated."""
FIELD_LABELS = {
    "view": N_("Break down by"),
    "group_by": N_("Break down by"),
    "by2": N_("and by"),
    "by3": N_("and by"),
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
    by2: Dimension | None = None
    by3: Dimension | None = None

    @property
    def fixed_measure(self) -> Measure | None:
        """The one measure the table can count, if only one: persons when a dimension only
        people have is in it (an event has no one nationality)."""
        person_only = set(PERSON_DIMENSIONS) - set(EVENT_DIMENSIONS)
        if any(d in person_only for d in self.dimensions):
            return Measure.PERSONS
        return FIXED_MEASURE.get(self.view)

    @property
    def effective_measure(self) -> Measure:
        """The measure the table counts."""
        return self.fixed_measure or self.measure

    @property
    def dimensions(self) -> tuple[Dimension, ...]:
        """The dimensions of the table: the view's breakdown, then the crossed ones."""
        first = () if self.view is View.TOTAL else (DIMENSION_OF[self.view],)
        return (*first, *(d for d in (self.by2, self.by3) if d is not None))

    @property
    def crossed(self) -> bool:
        """True when the table crosses two or more dimensions (shown as a table, not charted)."""
        return len(self.dimensions) > 1


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

    def cross(name: str) -> Dimension | None:
        raw = (params.get(name) or [""])[0]
        if not raw:
            return None
        if raw not in CROSS_LABELS:
            errors.append(
                FormError(name, N_('"{value}" is not one of the choices'), {"value": raw})
            )
            return None
        return Dimension(raw)

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
        by2=cross("by2"),
        by3=cross("by3"),
    )
    return query, errors


@dataclass(frozen=True)
class Row:
    """One protected cell as the table shows it (and the CSV writes it)."""

    cell: TableCell
    labels: list[str]
    window: str

    @property
    def count_text(self) -> str:
        """The count as published."""
        return str(self.cell.count)

    @property
    def margin(self) -> bool:
        """True for a total or a margin of the table."""
        return TOTAL_VALUE in self.cell.values.values()


@dataclass
class Dashboard:
    """Everything the page shows for one query."""

    query: Query
    dimensions: tuple[Dimension, ...]
    rows: list[Row]
    series: list[str]
    all_values: int
    chart: dict[str, object]
    total: int
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
    if dimension is Dimension.SEX:
        return t.gettext(SEX_LABELS.get(value, value))
    if dimension is Dimension.AGE_BAND and value == "unknown":
        return t.gettext(UNKNOWN_LABEL)
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


def build(
    stats: StatsView, query: Query, errors: list[FormError], t: Translator, now: datetime
) -> Dashboard:
    """The rows, series and chart of a query; a query the cells cannot answer is an error."""
    dims = query.dimensions
    filters = {
        Dimension.PARTICIPANT: query.participant,
        Dimension.BORDER_SECTION: query.border_section,
        Dimension.EVENT_TYPE: query.event_type,
    }
    if query.view is View.MINORS:
        filters[Dimension.VULNERABILITY] = tuple(MINOR_FLAGS)
    table = TableQuery(query.period, query.effective_measure, dims, filters, query.start, query.end)
    cells: list[TableCell] = []
    if not errors:
        try:
            cells = stats.table(table, now)
        except StatsQueryError as exc:
            where = {"group_by": "view", "vulnerability": "view"}.get(exc.field, exc.field)
            errors = [*errors, FormError(where, exc.template, exc.params)]
    # The grand total per window (exact unless itself 1-4).
    totals = [c for c in cells if all(v == TOTAL_VALUE for v in c.values.values())]
    parts = [c for c in cells if c not in totals] if dims else []
    first = dims[0] if dims else Dimension.TOTAL
    weight: dict[str, int] = {}
    for c in parts:
        value = c.values[first]
        if value != TOTAL_VALUE:
            weight[value] = weight.get(value, 0) + (c.count or 0)
    ranked = sorted(weight, key=lambda v: (-weight[v], v))
    top = query.top if query.view is View.NATIONALITY and not query.crossed else 0
    series = ranked[:top] if top else ranked
    shown = {*series, TOTAL_VALUE}
    kept = sorted(
        [c for c in parts if c.values[first] in shown] + totals,
        key=lambda c: (c.window_start, *((v == TOTAL_VALUE, v) for v in c.values.values())),
    )
    rows = [
        Row(c, [label_of(d, c.values[d], t) for d in dims],
            window_label(query.period, c.window_start, t))
        for c in kept
    ]  # fmt: skip
    chart = {} if query.crossed else _chart(query, first, series, kept, bool(totals), t)
    total = sum(c.count for c in totals)
    return Dashboard(query, dims, rows, series, len(ranked), chart, total, errors)


def _chart(
    query: Query,
    dimension: Dimension,
    series: list[str],
    kept: list[TableCell],
    has_totals: bool,
    t: Translator,
) -> dict[str, object]:
    """One line (or bar) per value of a one-dimensional breakdown; 0 where a table leaves
    the cell out."""
    windows = sorted({c.window_start for c in kept})
    by_key = {(c.window_start, c.values.get(dimension, TOTAL_VALUE)): c for c in kept}
    # The totals are charted only when they are all there is (they would flatten the rest).
    charted = series or ([TOTAL_VALUE] if has_totals else [])
    return {
        "kind": "line" if len(windows) > 1 else "bar",
        "labels": [window_label(query.period, w, t) for w in windows],
        "series": [
            {
                "value": value,
                "label": label_of(dimension, value, t),
                "data": [_count(by_key.get((w, value))) for w in windows],
            }
            for value in charted
        ],
    }


def _count(cell: TableCell | None) -> int:
    return 0 if cell is None else cell.count


def to_csv(board: Dashboard, statement: str) -> str:
    """Exactly the table on screen: the same rows, the same counts; then a blank line and the
    statement of how the figures were protected, in the reader's language."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = [d.value for d in board.dimensions]
    writer.writerow(["period", "window_start", "window_end", "measure", *names,
                     *(f"{n}_label" for n in names), "count"])  # fmt: skip
    for row in board.rows:
        c = row.cell
        writer.writerow(
            [
                c.period.value,
                c.window_start.isoformat(),
                c.window_end.isoformat(),
                c.measure.value,
                *(c.values[d] for d in board.dimensions),
                *row.labels,
                row.count_text,
            ]
        )
    writer.writerow([])
    writer.writerow([statement])
    return out.getvalue()
