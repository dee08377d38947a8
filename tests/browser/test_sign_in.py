"""Signing in at the agencies' identity provider in a real browser: the button, the
provider's page, back to the console, whose session cookie is SameSite=Strict."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
import uvicorn
from playwright.async_api import Browser, expect

from gateway.api.main import create_app
from gateway.settings import GatewaySettings
from schemas.keys import KeyRegistry
from schemas.settings import ContractSettings, KafkaSettings
from tests.browser.conftest import RequestLog, screenshot_path
from tests.factories import agency_key
from tests.gateway.conftest import RecordingService
from tests.oidc_provider import AUDIENCE, CLIENT_ID, TestProvider
from wbx.broker import free_port

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[str, TestProvider]]:
    """A gateway (no broker needed for signing in) trusting a test provider, on real ports."""
    tmp: Path = tmp_path_factory.mktemp("sign-in")
    provider = TestProvider()
    provider.users = {
        "petar": {"wbx_role": "pcc_operator", "wbx_pcc": "pcc-plav", "name": "Petar Petrović"}
    }
    KeyRegistry([agency_key("RS-BP", datetime.now(UTC) - timedelta(days=1))[1]]).save(
        tmp / "keys.json"
    )
    service = RecordingService(
        GatewaySettings(
            token_key_file=tmp / "token.pem",
            audit_key_file=tmp / "audit-key.pem",
            outbox_dir=tmp / "outbox",
            oidc_issuer=provider.url,
            oidc_audience=AUDIENCE,
            oidc_client_id=CLIENT_ID,
            oidc_provider_name="e-Identity (test)",
        ),
        KafkaSettings(bootstrap="127.0.0.1:1", idempotence=False),
        ContractSettings(key_registry=tmp / "keys.json"),
    )
    service.sent = []
    port = free_port()
    config = uvicorn.Config(create_app(service, manage=False), host="127.0.0.1", port=port,
                            log_level="warning")  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    # localhost, not 127.0.0.1: the provider must be another site, as a real one is, or the
    # browser would send SameSite=Strict cookies along the whole redirect chain.
    yield f"http://localhost:{port}", provider
    server.should_exit = True
    await task
    provider.stop()


async def test_an_operator_signs_in_at_the_provider_and_lands_on_the_console(
    browser: Browser, site: tuple[str, TestProvider], requests_log: RequestLog
):
    base, provider = site
    context = await browser.new_context(viewport={"width": 1280, "height": 720})
    page = await context.new_page()
    page.on("request", requests_log)
    try:
        await page.goto(f"{base}/console")  # not signed in: sent to the sign-in page
        button = page.locator("#oidc-sign-in")
        await expect(button).to_have_text("Sign in with e-Identity (test)")
        await page.screenshot(path=screenshot_path("sign-in-with-provider"))
        await button.click()
        await page.wait_for_url(f"{provider.url}/auth?*")
        await page.get_by_role("button", name="Sign in as petar").click()
        await page.wait_for_url(f"{base}/console")
        await expect(page.locator("h1")).to_contain_text("Plav")
        await expect(page.locator(".who")).to_have_text("Petar Petrović")  # not the IdP's id
        await page.screenshot(path=screenshot_path("console-after-provider-sign-in"))
        cookies = {c["name"]: c for c in await context.cookies(base)}
        assert cookies["wbx_session"]["sameSite"] == "Strict"
        assert cookies["wbx_session"]["httpOnly"] and "wbx_oidc" not in cookies
    finally:
        await context.close()
    assert not [u for u in requests_log.foreign(base) if not u.startswith(provider.url)]
