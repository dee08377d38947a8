"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas.errors import validation_items

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid request",
    500: "Internal error",
    503: "Service unavailable",
}


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None


def problem(status: int, detail: str, instance: str | None = None, **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body = Problem(
        title=_TITLES.get(status, "Error"), status=status, detail=detail, instance=instance
    )
    headers = {"WWW-Authenticate": 'Bearer realm="wbx"'} if status == 401 else None
    return JSONResponse(
        {**body.model_dump(exclude_none=True), **extra},
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Turn HTTP and validation errors into problem+json responses."""

    @app.exception_handler(StarletteHTTPException)
    async def http_problem(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), request.url.path)

    @app.exception_handler(Exception)
    async def unexpected_problem(request: Request, exc: Exception) -> JSONResponse:
        # Input never gets here (every wrong input is a 4xx); a bug still answers in the
        # API's own format, and the traceback goes to the log.
        logger.error("unexpected error on %s", request.url.path, exc_info=exc)
        return problem(500, "the gateway failed unexpectedly; the error is logged")

    @app.exception_handler(RequestValidationError)
    async def validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
        items = validation_items(exc.errors())
        errors = [{"loc": where, "msg": message} for where, message in items]
        detail = "; ".join(f"{e['loc']}: {e['msg']}" for e in errors)
        return problem(422, detail, request.url.path, errors=errors)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing, expired or forged token"},
    403: {"model": Problem, "description": "The token's role or binding does not allow this"},
}
