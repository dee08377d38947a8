"""Problem details: every error, expected or not, answers as application/problem+json."""

from __future__ import annotations

import httpx
from fastapi import FastAPI, HTTPException

from gateway.api.problems import install_problem_handlers


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/bad")
    async def bad() -> None:
        raise HTTPException(400, "the body: not JSON")

    @app.get("/bug")
    async def bug() -> None:
        raise RuntimeError("a bug")

    @app.get("/typed")
    async def typed(limit: int) -> int:
        return limit

    return app


async def test_http_errors_validation_errors_and_bugs_are_problem_details():
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        bad = await client.get("/bad")
        typed = await client.get("/typed", params={"limit": "9" * 5_000})
        bug = await client.get("/bug")
    assert (bad.status_code, bad.json()["detail"]) == (400, "the body: not JSON")
    assert typed.status_code == 422 and typed.json()["errors"][0]["loc"] == "query.limit"
    assert bug.status_code == 500 and "logged" in bug.json()["detail"]
    for response in (bad, typed, bug):
        assert response.headers["content-type"] == "application/problem+json"
