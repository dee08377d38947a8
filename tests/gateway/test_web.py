"""Web pages through the ASGI app: sign-in, sessions, CSRF, CSP, languages, console, dashboard."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from gateway.api.main import create_app
from gateway.auth import Role
from gateway.web.i18n import LOCALES, catalogue, choose_locale
from gateway.web.routes import CONSOLE_WORDS, CSP
from gateway.web.sessions import CODE_TTL, Sessions, SignInCodes
from schemas.derived import AlertStatus
from tests.factories import make_alert, stat_cell
from tests.gateway.conftest import RecordingService

WEB = Path(__file__).resolve().parents[2] / "gateway" / "web"


@pytest_asyncio.fixture
async def browser(service: RecordingService) -> AsyncIterator[httpx.AsyncClient]:
    """A client that keeps cookies, like a browser."""
    transport = httpx.ASGITransport(app=create_app(service, manage=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        yield client


def form_token_of(html: str) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', html)
    assert found, "no sign-in form token on the page"
    return found.group(1)


async def sign_in(
    browser: httpx.AsyncClient, token: str = "", *, code: str = "", next_page: str = ""
) -> httpx.Response:
    """Sign in as a person does: open the form, then post it with its form token."""
    form = await browser.get("/sign-in")
    data = {"form_token": form_token_of(form.text), "token": token, "code": code}
    return await browser.post("/sign-in", data={**data, "next": next_page})


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def test_sign_in_page_is_served_with_a_strict_csp_and_no_inline_code(browser):
    response = await browser.get("/sign-in")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CSP
    assert "default-src 'self'" in CSP and "script-src 'self'" in CSP
    html = response.text
    assert "<script>" not in html and " style=" not in html and "http://" not in html
    assert '<html lang="en">' in html and "<title>Sign in · WBX</title>" in html


async def test_an_operator_signs_in_sees_only_their_pccs_alerts_and_acknowledges_with_csrf(
    browser, service
):
    mine, theirs = make_alert("pcc-trebinje", "critical"), make_alert("pcc-plav")
    service.view("pcc-trebinje").apply_alert(mine, datetime.now(UTC))
    service.view("pcc-plav").apply_alert(theirs, datetime.now(UTC))
    token = service.authority.issue(Role.PCC_OPERATOR, pcc="pcc-trebinje")
    response = await sign_in(browser, token)
    assert (response.status_code, response.headers["location"]) == (303, "/console")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and token not in cookie
    console = await browser.get("/console")
    assert console.status_code == 200
    assert mine.id in console.text and theirs.id not in console.text
    assert "CRITICAL" in console.text.upper()  # severity in words, not colour alone
    url = f"/console/alerts/{mine.id}/ack"
    refused = await browser.post(url, data={"note": "no token"})
    assert refused.status_code == 403
    assert service.view("pcc-trebinje").alerts[mine.id].status is AlertStatus.OPEN
    done = await browser.post(url, data={"csrf": csrf_of(console.text), "note": "on it"})
    assert done.status_code == 303
    state = service.view("pcc-trebinje").alerts[mine.id]
    assert state.status is AlertStatus.ACKNOWLEDGED and state.acknowledged_by.endswith("trebinje")
    assert "Acknowledged by" in (await browser.get("/console")).text


async def test_pages_need_a_session_of_the_right_role(browser, service):
    assert (await browser.get("/console")).headers["location"] == "/sign-in?next=%2Fconsole"
    analyst = service.authority.issue(Role.ANALYST, analyst="marri")
    await sign_in(browser, analyst)
    assert (await browser.get("/console")).status_code == 303
    publisher = service.authority.issue(Role.PUBLISHER, agency="RS-BP")
    refused = await sign_in(browser, publisher)
    assert refused.status_code == 403
    assert "not for a PCC operator or an analyst" in refused.text
    bad = await sign_in(browser, "not-a-token")
    assert bad.status_code == 401 and "not valid" in bad.text


async def test_a_sign_in_code_works_once(browser, service):
    token = service.authority.issue(Role.ANALYST, analyst="marri")
    code = service.sign_in_codes.issue(token, datetime.now(UTC))
    first = await sign_in(browser, code=code.lower())
    assert (first.status_code, first.headers["location"]) == (303, "/dashboard")
    browser.cookies.clear()
    again = await sign_in(browser, code=code)
    assert again.status_code == 401 and "unknown, used or expired" in again.text


def test_sign_in_codes_expire_and_stores_are_bounded():
    now = datetime.now(UTC)
    codes = SignInCodes(capacity=3)
    old = codes.issue("t0", now)
    assert codes.redeem(old, now + CODE_TTL) is None  # expired at exactly ten minutes
    for n in range(10):
        codes.issue(f"t{n}", now)
    assert len(codes) == 3
    sessions = Sessions(capacity=2)
    from gateway.auth import Principal

    principal = Principal("analyst:x", Role.ANALYST, analyst="x")
    made = [sessions.create(principal, now + timedelta(hours=1)) for _ in range(5)]
    assert len(sessions) == 2 and sessions.get(made[0].id, now) is None
    assert sessions.get(made[-1].id, now + timedelta(hours=2)) is None  # ends with its token


async def test_sign_out_ends_the_session(browser, service):
    await sign_in(browser, service.authority.issue(Role.ANALYST, analyst="marri"))
    dashboard = await browser.get("/dashboard")
    assert dashboard.status_code == 200
    assert (await browser.post("/sign-out", data={})).status_code == 403  # no CSRF token
    out = await browser.post("/sign-out", data={"csrf": csrf_of(dashboard.text)})
    assert out.status_code == 303
    assert (await browser.get("/dashboard")).status_code == 303
    assert len(service.sessions) == 0


async def test_the_dashboard_shows_suppressed_cells_as_lt5(browser, service):
    service.stats.apply(stat_cell(date(2026, 11, 20), "AFG", 12))
    service.stats.apply(stat_cell(date(2026, 11, 20), "SYR", None))
    await sign_in(browser, service.authority.issue(Role.ANALYST, analyst="marri"))
    html = (await browser.get("/dashboard")).text
    rows = re.findall(r"<td>(AFG|SYR)</td>\s*<td class=\"num\">([^<]+)</td>", html)
    assert rows == [("AFG", "12"), ("SYR", "&lt;5")]


@pytest.mark.parametrize(
    ("header", "expected"),
    [("sq-AL,sq;q=0.9", "sq"), ("mk", "mk"), ("sr-Latn-RS", "sr_Latn"), ("bs", "sr_Latn"),
     ("hr-HR", "sr_Latn"), ("de-DE", "en"), (None, "en")],
)  # fmt: skip
def test_the_language_follows_the_browser(header, expected):
    assert choose_locale(None, header) == expected


def _msgids() -> set[str]:
    """Every string the pages translate: literal ones, and the vocabularies shown translated."""
    sources = [*(WEB / "templates").glob("*.html"), WEB / "routes.py"]
    found: set[str] = set()
    for path in sources:
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r"_\(\"([^\"]+)\"\)", text))
        found |= set(re.findall(r"_\('([^']+)'\)", text))
        found |= set(re.findall(r"gettext\(\"([^\"]+)\"\)", text))
    return found | set(CONSOLE_WORDS)


@pytest.mark.parametrize("locale", [code for code in LOCALES if code != "en"])
def test_every_catalogue_translates_every_string_for_real(locale):
    table = catalogue(locale)
    msgids = _msgids()
    assert len(msgids) > 30
    missing = sorted(m for m in msgids if not table.get(m))
    assert not missing, missing
    copied = sorted(m for m in msgids if table[m] == m)
    assert not copied, f"English copies, not translations: {copied}"


@pytest.mark.parametrize("locale", ["sq", "mk", "sr-Latn"])
async def test_a_page_in_each_language_shows_no_english_string_of_the_catalogue(
    browser, service, locale
):
    service.view("pcc-trebinje").apply_alert(make_alert("pcc-trebinje"), datetime.now(UTC))
    await sign_in(browser, service.authority.issue(Role.PCC_OPERATOR, pcc="pcc-trebinje"))
    response = await browser.get(f"/console?lang={locale}")
    html = response.text
    assert f'<html lang="{locale}">' in html
    assert "wbx_lang" in response.headers.get("set-cookie", "")  # remembered
    english = [m for m in _msgids() if len(m) > 3 and f">{m}<" in html]
    assert not english, english
    again = await browser.get("/console")  # no ?lang: the cookie decides
    assert f'<html lang="{locale}">' in again.text
