"""Routes of the web pages, and the static assets they use (served by WBX itself)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

router = APIRouter(include_in_schema=False)


@router.get("/")
async def read_home() -> RedirectResponse:
    """The front door: the API documentation until the console and dashboard pages exist."""
    return RedirectResponse("/docs", status_code=307)


def install_web(app: FastAPI) -> None:
    """Mount the pages and their static assets on the gateway app."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
