"""Regional statistics for analysts: any table, always after disclosure control, JSON or CSV."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import Response

from gateway.api.deps import QueryDep, ServiceDep, StatsReader
from gateway.api.models import StatsOut
from gateway.api.problems import PROBLEM_RESPONSES
from gateway.views import TableQuery
from schemas.disclosure import protection_statement
from schemas.tables import TableCell

router = APIRouter(prefix="/v1", tags=["stats"])


def table_csv(query: TableQuery, cells: list[TableCell], statement: str) -> str:
    """The table as CSV, one column per dimension, then a blank line and the statement of
    how its figures were protected (a CSV travels without its page)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    by = [d.value for d in query.by]
    writer.writerow(
        ["period", "window_start", "window_end", "measure", *by, "count", "display", "status"]
    )
    for c in cells:
        writer.writerow(
            [
                c.period.value,
                c.window_start.isoformat(),
                c.window_end.isoformat(),
                c.measure.value,
                *(c.values[d] for d in query.by),
                "" if c.count is None else c.count,
                c.display,
                c.status,
            ]
        )
    writer.writerow([])
    writer.writerow([statement])
    return out.getvalue()


def _csv(service: ServiceDep, query: TableQuery, cells: list[TableCell]) -> Response:
    body = table_csv(query, cells, protection_statement(service.stats.ptable))
    return Response(body, media_type="text/csv; charset=utf-8")


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
    """A table of counts per window, crossed by up to three dimensions, with its margins;
    cells of 1-4 show "<5" and no count."""
    table, cells = query.select(service)
    if accept and "text/csv" in accept:
        return _csv(service, table, cells)
    return StatsOut(
        period=table.period.value,
        measure=table.measure.value,
        group_by=[d.value for d in table.by],
        filters={d.value: list(v) for d, v in table.filters.items()},
        protection=protection_statement(service.stats.ptable),
        cells=cells,
    )


@router.get(
    "/stats.csv",
    response_class=Response,
    responses={**PROBLEM_RESPONSES, 200: {"content": {"text/csv": {}}}},
)
async def read_stats_csv(service: ServiceDep, principal: StatsReader, query: QueryDep) -> Response:
    """The same table as CSV."""
    return _csv(service, *query.select(service))
