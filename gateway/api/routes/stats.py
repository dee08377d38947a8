"""Regional statistics for analysts, always after disclosure control, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import Response

from gateway.api.deps import QueryDep, ServiceDep, StatsReader
from gateway.api.models import StatsOut
from gateway.api.problems import PROBLEM_RESPONSES
from schemas.derived import StatCell

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
