"""The PCC console in a real browser, on a live stack: an alert arrives live, is acknowledged."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from gateway.auth import Role
from schemas.topics import INGEST
from tests.browser.conftest import RequestLog, screenshot_path
from tests.integration.gateway_server import LiveGateway
from tests.integration.kafka_io import produce, wait_until
from tests.integration.pipeline_stack import Stack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.asyncio(loop_scope="module"),
]


async def signed_in(browser: Browser, gw: LiveGateway, pcc: str, log: RequestLog) -> Page:
    """A page of an operator of `pcc`, signed in with a one-time code."""
    context = await browser.new_context(viewport={"width": 1280, "height": 720})
    page = await context.new_page()
    page.on("request", log)
    token = gw.service.authority.issue(Role.PCC_OPERATOR, pcc=pcc)
    code = gw.service.sign_in_codes.issue(token, datetime.now(UTC))
    await page.goto(f"{gw.base}/sign-in")
    await page.fill("#code", code)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/console")
    await expect(page.locator("#live")).to_have_text("Live", timeout=15_000)
    return page


async def test_an_alert_arrives_live_is_acknowledged_and_plav_never_sees_it(
    browser: Browser, gw: LiveGateway, stack: Stack, requests_log: RequestLog
):
    trebinje = await signed_in(browser, gw, "pcc-trebinje", requests_log)
    plav = await signed_in(browser, gw, "pcc-plav", requests_log)
    try:
        await _alert_arrives_live_and_is_acknowledged(trebinje, plav, gw, stack, requests_log)
    finally:
        # Open event streams would hold the gateway's shutdown: close the pages first.
        for page in (trebinje, plav):
            await page.context.close()


async def _alert_arrives_live_and_is_acknowledged(
    trebinje: Page, plav: Page, gw: LiveGateway, stack: Stack, requests_log: RequestLog
) -> None:
    event_id = "3f1c2a94-5b6e-4d7f-8a90-b1c2d3e4f5a7"
    record = stack.signed(
        "death_or_missing_person",
        {"border_section": "BA-ME", "count": 1},
        "BA-BP",
        event_id=event_id,
        time=datetime.now(UTC) - timedelta(minutes=1),
    )
    await produce(stack.bootstrap, INGEST, [(b"BA-ME", record)])

    row = trebinje.locator("tr.sev-critical").first
    await expect(row).to_be_visible(timeout=60_000)  # no reload: it came over the stream
    await expect(row).to_contain_text("BA-ME")
    await trebinje.screenshot(path=screenshot_path("console-live-alert"))
    assert await plav.locator("tr.sev-critical").count() == 0

    await row.locator("input[name=note]").fill("patrol sent")
    await row.locator("button[type=submit]").click()
    await trebinje.wait_for_url("**/console")
    await trebinje.reload()
    await expect(trebinje.locator("tr.sev-critical").first).to_contain_text("Acknowledged by")
    await trebinje.screenshot(path=screenshot_path("console-acknowledged"))
    operator = gw.auth(Role.PCC_OPERATOR, pcc="pcc-trebinje")
    async with httpx.AsyncClient(base_url=gw.base) as client:
        alerts = (await client.get("/v1/alerts", headers=operator)).json()
    critical = [a for a in alerts if a["severity"] == "critical"]
    assert critical and critical[0]["status"] == "acknowledged"
    assert critical[0]["acknowledged_by"] == "pcc_operator:pcc-trebinje"

    assert requests_log.urls, "the pages made no request at all?"
    assert requests_log.foreign(gw.base) == []


async def test_a_cut_stream_shows_the_indicator_and_the_list_catches_up(
    browser: Browser, gw: LiveGateway, stack: Stack, requests_log: RequestLog
):
    page = await signed_in(browser, gw, "pcc-trebinje", requests_log)
    view = gw.service.view("pcc-trebinje")
    try:
        # Cut the stream at the gateway and keep the page from getting back for a while.
        await page.route("**/console/stream", lambda route: route.abort())
        assert view.disconnect_all() >= 1
        await expect(page.locator("#live")).to_have_class(re.compile("lost"), timeout=15_000)
        await page.screenshot(path=screenshot_path("console-connection-lost"))
        record = stack.signed(
            "death_or_missing_person",
            {"border_section": "BA-RS", "count": 2},
            "RS-BP",
            time=datetime.now(UTC) - timedelta(minutes=2),
        )
        await produce(stack.bootstrap, INGEST, [(b"BA-RS", record)])

        async def missed() -> str | None:
            found = [s for s in view.alerts.values() if s.alert.border_section == "BA-RS"]
            return found[0].alert.id if found else None

        alert_id = await wait_until(missed, 60, "the alert to reach the gateway while cut off")
        await page.unroute("**/console/stream")
        await expect(page.locator("#live")).to_have_class(re.compile("ok"), timeout=15_000)
        await expect(page.locator(f"#alert-{alert_id}")).to_be_visible(timeout=15_000)
        await page.screenshot(path=screenshot_path("console-caught-up"))
        assert requests_log.foreign(gw.base) == []
    finally:
        await page.context.close()
