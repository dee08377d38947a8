"""Regional statistics for analysts, always after disclosure control, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query
from fastapi.responses import Response

from gateway.api.deps import ServiceDep, StatsReader
from gateway.api.models import StatsOut
from gateway.api.problems import PROBLEM_RESPONSES
from gateway.service import GatewayService
from schemas.derived import Dimension, Measure, Period, StatCell

router = APIRouter(prefix="/v1", tags=["stats"])
CSV_COLUMNS = [
    "period",
    "window_start",
    "window_end",
    "measure",
    "dimension",
    "value",
    "count",
    "display",
    "suppressed",
]


def _select(
    service: GatewayService,
    period: Period,
    measure: Measure,
    group_by: Dimension | None,
    start: date | None,
    end: date | None,
    filters: dict[Dimension, list[str] | None],
) -> tuple[Dimension, list[StatCell]]:
    named = {d: v for d, v in filters.items() if v}
    if len(named) > 1:
        raise HTTPException(400, "filter on one dimension at a time (cells are one-dimensional)")
    if named:
        dimension, values = next(iter(named.items()))
        if group_by is not None and group_by is not dimension:
            raise HTTPException(400, f"group_by={group_by} conflicts with the {dimension} filter")
    else:
        dimension, values = group_by or Dimension.TOTAL, None
    return dimension, service.stats.query(
        period, measure, dimension, values=values, start=start, end=end
    )


def _csv(cells: list[StatCell]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for c in cells:
        writer.writerow(
            [
                c.period.value,
                c.window_start,
                c.window_end,
                c.measure.value,
                c.dimension.value,
                c.value,
                "" if c.count is None else c.count,
                c.display,
                str(c.suppressed).lower(),
            ]
        )
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8")


@dataclass(frozen=True)
class StatsQuery:
    """The query parameters both statistics endpoints accept."""

    period: Period = Period.DAY
    measure: Measure = Measure.PERSONS
    group_by: Dimension | None = None
    start: Annotated[date | None, Query(alias="from")] = None
    end: Annotated[date | None, Query(alias="to")] = None
    participant: Annotated[list[str] | None, Query()] = None
    border_section: Annotated[list[str] | None, Query()] = None
    event_type: Annotated[list[str] | None, Query()] = None
    nationality: Annotated[list[str] | None, Query()] = None

    def select(self, service: GatewayService) -> tuple[Dimension, list[StatCell]]:
        """The breakdown asked for and its cells."""
        filters = {
            Dimension.PARTICIPANT: self.participant,
            Dimension.BORDER_SECTION: self.border_section,
            Dimension.EVENT_TYPE: self.event_type,
            Dimension.NATIONALITY: self.nationality,
        }
        return _select(
            service, self.period, self.measure, self.group_by, self.start, self.end, filters
        )


QueryDep = Annotated[StatsQuery, Depends()]


@router.get(
    "/stats",
    response_model=StatsOut,
    responses={**PROBLEM_RESPONSES, 200: {"content": {"text/csv": {}}}},
)
async def read_stats(
    service: ServiceDep,
    principal: StatsReader,
    query: QueryDep,
    accept: Annotated[str | None, Header()] = None,
) -> StatsOut | Response:
    """Counts per window for one breakdown; suppressed cells show "<5" and no count."""
    dimension, cells = query.select(service)
    if accept and "text/csv" in accept:
        return _csv(cells)
    return StatsOut(
        period=query.period.value,
        measure=query.measure.value,
        group_by=dimension.value,
        cells=cells,
    )


@router.get(
    "/stats.csv",
    response_class=Response,
    responses={**PROBLEM_RESPONSES, 200: {"content": {"text/csv": {}}}},
)
async def read_stats_csv(service: ServiceDep, principal: StatsReader, query: QueryDep) -> Response:
    """The same statistics as CSV."""
    return _csv(query.select(service)[1])
