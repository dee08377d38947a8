"""The analysts' dashboard in a real browser on a live stack: chart, table, CSV equal /v1/stats."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from gateway.auth import Role
from schemas.derived import Measure
from schemas.topics import INGEST
from tests.browser.conftest import RequestLog, screenshot_path
from tests.browser.test_console import accessibility_problems
from tests.integration.gateway_server import LiveGateway
from tests.integration.kafka_io import produce, wait_until
from tests.integration.pipeline_stack import Stack
from tests.web_strings import english_on_page

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.asyncio(loop_scope="module"),
]

# A day no other test of the module publishes on, so the numbers are exactly ours.
DAY = datetime.now(UTC).date() - timedelta(days=3)
GROUPS = {"AFG": 9, "SYR": 6, "PAK": 2}
"""Persons per nationality the test publishes; PAK (2) shows as 0 (left out) or 5."""


async def signed_in_analyst(
    browser: Browser, gw: LiveGateway, log: RequestLog, locale: str = "en"
) -> Page:
    """An analyst's page, signed in with a one-time code."""
    context = await browser.new_context(
        viewport={"width": 1280, "height": 720}, locale=locale, accept_downloads=True
    )
    page = await context.new_page()
    page.on("request", log)
    token = gw.service.authority.issue(Role.ANALYST, analyst="marri")
    code = gw.service.sign_in_codes.issue(token, datetime.now(UTC))
    await page.goto(f"{gw.base}/sign-in")
    await page.fill("#code", code)
    await page.click("form.card button[type=submit]")
    await page.wait_for_url("**/dashboard")
    return page


def people_on_day(gw: LiveGateway) -> int:
    """The true count of persons on DAY the gateway holds (what its tables are built from)."""
    fine = gw.service.stats.days.get(DAY, {}).get(Measure.PERSONS, {})
    return sum(n for n, _ in fine.values())


async def publish_day(gw: LiveGateway, stack: Stack) -> list[dict[str, object]]:
    """Apprehensions on DAY through the whole pipeline; the gateway's published cells."""
    at = datetime.combine(DAY, time(10, 0), tzinfo=UTC)
    before = people_on_day(gw)
    records = []
    for nationality, persons in GROUPS.items():
        data = {
            "border_section": "MK-RS",
            "direction": "entry",
            "group_size": persons,
            "persons": [{"nationality": nationality, "sex": "male"}] * persons,
        }
        records.append((b"MK-RS", stack.signed("apprehension", data, "RS-BP", time=at)))
    await produce(stack.bootstrap, INGEST, records)
    analyst = gw.auth(Role.ANALYST, analyst="marri")
    query = {"group_by": "nationality", "from": DAY.isoformat(), "to": DAY.isoformat()}

    async def published() -> list[dict[str, object]] | None:
        async with httpx.AsyncClient(base_url=gw.base) as client:
            cells = (await client.get("/v1/stats", params=query, headers=analyst)).json()["cells"]
        # Every person has reached the gateway's fine cells: the page and the API agree.
        return cells if people_on_day(gw) == before + sum(GROUPS.values()) else None

    cells: list[dict[str, object]] = await wait_until(published, 60, "the day's statistics")
    return cells


async def test_chart_table_and_csv_equal_the_published_statistics(
    browser: Browser, gw: LiveGateway, stack: Stack, requests_log: RequestLog
):
    cells = await publish_day(gw, stack)
    page = await signed_in_analyst(browser, gw, requests_log)
    try:
        query = f"view=nationality&from={DAY.isoformat()}&to={DAY.isoformat()}"
        await page.goto(f"{gw.base}/dashboard?{query}")
        await expect(page.locator("canvas#chart")).to_be_visible()
        rows = await page.eval_on_selector_all(
            "#stats tbody tr",
            "rows => rows.map(r => [r.dataset.window, r.dataset.value, r.cells[2].innerText])",
        )
        expected = [[c["window_start"], c["values"]["nationality"], c["display"]] for c in cells]
        assert rows == expected  # the table is /v1/stats
        assert all(int(r[2]) >= 5 for r in rows)  # never 1-4

        charted = await page.evaluate(
            """() => Chart.getChart("chart").data.datasets.map(d => [d.label, d.data])"""
        )
        names = {"AFG": "Afghanistan", "SYR": "Syria", "PAK": "Pakistan"}
        by_value = {
            c["values"]["nationality"]: c["count"]
            for c in cells
            if c["values"]["nationality"] != "__total__"
        }
        assert sorted(charted) == sorted([names[v], [n]] for v, n in by_value.items())
        await page.screenshot(path=screenshot_path("dashboard-nationality"), full_page=True)

        async with page.expect_download() as waiting:
            await page.click("#csv")
        download = await waiting.value
        text = (await download.path()).read_text(encoding="utf-8")
        table, statement = text.split("\n\n")
        csv_rows = list(csv.DictReader(io.StringIO(table)))
        assert [[r["window_start"], r["nationality"], r["count"]] for r in csv_rows] == rows
        assert "protected" in statement

        assert await accessibility_problems(page) == []
        assert requests_log.foreign(gw.base) == []
    finally:
        await page.context.close()


@pytest.mark.parametrize("locale", ["sq", "mk", "sr-Latn"])
async def test_the_dashboard_in_each_language_shows_no_english_from_the_catalogue(
    browser: Browser, gw: LiveGateway, requests_log: RequestLog, locale: str
):
    page = await signed_in_analyst(browser, gw, requests_log, locale=locale)
    try:
        await page.goto(f"{gw.base}/dashboard?view=participant&from={date(2026, 1, 1)}")
        assert await page.get_attribute("html", "lang") == locale
        text = await page.inner_text("body")
        assert english_on_page(text, locale) == []
        await page.screenshot(path=screenshot_path(f"dashboard-{locale}"), full_page=True)
    finally:
        await page.context.close()


def cells_by(values: str, cells: list[dict[str, object]]) -> str:
    """The display of the API cell with these values."""
    found = [c for c in cells if "|".join(c["values"].values()) == values]  # type: ignore[attr-defined]
    return str(found[0]["display"])


async def test_a_cross_table_with_its_margins_in_the_browser(
    browser: Browser, gw: LiveGateway, stack: Stack, requests_log: RequestLog
):
    await publish_day(gw, stack)
    page = await signed_in_analyst(browser, gw, requests_log)
    try:
        await page.goto(f"{gw.base}/dashboard?from={DAY.isoformat()}&to={DAY.isoformat()}")
        await page.select_option("#view", "border_section")
        await page.select_option("#by2", "nationality")
        await page.select_option("#by3", "sex")
        await page.click("form.query button[type=submit]")
        await expect(page.locator("#stats caption")).to_contain_text("Cross-table")
        assert await page.locator("canvas#chart").count() == 0
        rows = await page.eval_on_selector_all(
            "#stats tbody tr", "rows => rows.map(r => [r.dataset.value, r.dataset.count])"
        )
        analyst = gw.auth(Role.ANALYST, analyst="marri")
        query = {"group_by": "border_section,nationality,sex", "from": DAY.isoformat(),
                 "to": DAY.isoformat()}  # fmt: skip
        async with httpx.AsyncClient(base_url=gw.base) as client:
            cells = (await client.get("/v1/stats", params=query, headers=analyst)).json()["cells"]
        assert rows == [["|".join(c["values"].values()), c["display"]] for c in cells]
        assert all(int(count) >= 5 for _, count in rows)  # never 1-4; a 0 is left out
        assert ["MK-RS|AFG|__total__", cells_by("MK-RS|AFG|__total__", cells)] in rows
        await page.screenshot(path=screenshot_path("dashboard-cross-table"), full_page=True)
        assert await accessibility_problems(page) == []
        assert requests_log.foreign(gw.base) == []
    finally:
        await page.context.close()
