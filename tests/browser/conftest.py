"""Browser tests: Debian's Chromium driven headless by Playwright, screenshots kept as artifacts."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, async_playwright

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium tries hosts this machine cannot reach.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium for the module (`make test` installs it with apt-get)."""
    assert Path(CHROMIUM).exists(), "Chromium is missing: `make test` installs it (apt-get)"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        await launched.close()


def screenshot_path(name: str) -> Path:
    """Where a test's screenshot goes (the folder the README names)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


class RequestLog:
    """Every request a page makes, to prove none leaves the gateway's origin."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, request: Any) -> None:
        self.urls.append(str(request.url))

    def foreign(self, origin: str) -> list[str]:
        """Requests to anything but `origin` (data: URLs are local)."""
        return [u for u in self.urls if not u.startswith(origin) and not u.startswith("data:")]


@pytest.fixture
def requests_log() -> RequestLog:
    """A fresh request log."""
    return RequestLog()
