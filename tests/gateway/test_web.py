"""Web pages through the ASGI app: sign-in, sessions, CSRF, CSP, languages, console, dashboard."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio
from babel.messages.pofile import read_po

from consumers.rules import load_rules
from gateway.api.main import create_app
from gateway.auth import Role
from gateway.views import BACKWARDS, NOT_FOR_MEASURE, REPEATED, TOO_MANY, TableQuery
from gateway.web.i18n import (
    ACCURACY_LABELS,
    CONSOLE_WORDS,
    EVENT_TYPE_LABELS,
    HANDLING_LABELS,
    LOCALES,
    PURPOSE_LABELS,
    RELIABILITY_LABELS,
    RULE_DESCRIPTIONS,
    VULNERABILITY_LABELS,
    Translator,
    catalogue,
    choose_locale,
    rule_title,
)
from gateway.web.routes import CSP, safe_next
from gateway.web.sessions import CODE_TTL, Sessions, SignInCodes
from schemas.derived import AlertStatus, Dimension
from schemas.payloads import PAYLOADS_BY_KIND
from schemas.vocab import Accuracy, Handling, Purpose, Reliability, Vulnerability
from tests.factories import fine_cell, make_alert
from tests.gateway.conftest import RecordingService
from tests.web_strings import SAME_IN, WEB, page_msgids, same_in


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


def table_rows(html: str) -> list[tuple[str, str, str]]:
    """(window, value, count) of each row of the dashboard's table, as its data attributes say."""
    return re.findall(r'data-window="([^"]+)" data-value="([^"]+)" data-count="([^"]+)"', html)


def shown(service, cell) -> str:
    """What the perturbation table shows for one fine cell alone (as a table would)."""
    return html.escape(service.stats.ptable.publish(cell.records, cell.key_sum).display)


async def test_the_dashboard_never_shows_1_to_4_in_table_chart_and_csv(browser, service):
    day, other = date(2026, 11, 20), date(2026, 11, 21)
    afg = fine_cell(day, 12, nationality="AFG")
    syr = fine_cell(day, 3, nationality="SYR", key_sum=2**32 - 1)  # 3, published as 5
    gone = fine_cell(other, 2, nationality="SYR", key_sum=0)  # 2, published as 0: left out
    afg_later = fine_cell(other, 9, nationality="AFG")
    for cell in (afg, syr, gone, afg_later):
        service.stats.apply_fine(cell)
    both = fine_cell(day, 15, key_sum=(afg.key_sum + syr.key_sum) % 2**32)
    later = fine_cell(other, 11, key_sum=(afg_later.key_sum + gone.key_sum) % 2**32)
    await sign_in(browser, service.authority.issue(Role.ANALYST, analyst="marri"))
    page = await browser.get("/dashboard?view=nationality")
    assert page.status_code == 200
    rows = table_rows(page.text)
    assert rows == [("2026-11-20", "AFG", shown(service, afg)), ("2026-11-20", "SYR", "5"),
                    ("2026-11-20", "__total__", shown(service, both)),
                    ("2026-11-21", "AFG", shown(service, afg_later)),
                    ("2026-11-21", "__total__", shown(service, later))]  # fmt: skip
    chart = json.loads(re.search(r'id="chart-data">(.*?)</script>', page.text, re.S).group(1))
    assert [(x["value"], x["data"]) for x in chart["series"]] == [
        ("AFG", [int(shown(service, afg)), int(shown(service, afg_later))]),
        ("SYR", [5, 0]),  # the cell left out is drawn as the 0 it was published as
    ]
    text = (await browser.get("/dashboard.csv?view=nationality")).text
    table, statement = text.split("\n\n")
    csv_rows = list(csv.reader(io.StringIO(table)))
    assert csv_rows[0] == ["period", "window_start", "window_end", "measure", "nationality",
                           "nationality_label", "count"]  # fmt: skip
    assert [(r[1], r[4], r[6]) for r in csv_rows[1:]] == [
        (w, v, html.unescape(c)) for w, v, c in rows
    ]
    assert csv_rows[2][5] == "Syria"  # named in the user's language, as on screen
    assert "protected" in statement and "at most 2" in statement  # says that and how
    assert "protected" in table_caption(page.text)  # and so does the table on screen
    albanian = await browser.get("/dashboard.csv?view=nationality&lang=sq")
    assert albanian.text.split("\n\n")[1].strip() != statement.strip()  # translated


def table_caption(page: str) -> str:
    return re.search(r"<caption>(.*?)</caption>", page, re.S).group(1)


async def test_the_dashboard_table_equals_the_protected_cells_of_its_view(browser, service):
    for n, code in enumerate(["AL", "BA", "ME", "MK", "RS", "XK"]):
        service.stats.apply_fine(fine_cell(date(2026, 11, 19), 5 + n, participant=code))
        service.stats.apply_fine(fine_cell(date(2026, 11, 20), 3 if n == 2 else 9 + n,
                                           participant=code))  # fmt: skip
    await sign_in(browser, service.authority.issue(Role.ANALYST, analyst="marri"))
    page = await browser.get("/dashboard?view=participant&from=2026-11-20&to=2026-11-20")
    day = date(2026, 11, 20)
    query = TableQuery(by=(Dimension.PARTICIPANT,), start=day, end=day)
    cells = service.stats.table(query, service.clock())
    assert table_rows(page.text) == [
        (c.window_start.isoformat(), c.values[Dimension.PARTICIPANT], html.escape(c.display))
        for c in cells
    ]
    only = await browser.get("/dashboard?view=participant&participant=RS&participant=XK")
    assert {v for _, v, _ in table_rows(only.text)} == {"RS", "XK", "__total__"}
    assert "Kosovo*" in only.text


async def test_the_dashboard_crosses_a_breakdown_with_two_more_dimensions(browser, service):
    day = date(2026, 11, 20)
    for section, nat, sex, n in [("MK-RS", "AFG", "male", 11), ("MK-RS", "AFG", "female", 6),
                                 ("BA-RS", "SYR", "male", 2)]:  # fmt: skip
        service.stats.apply_fine(fine_cell(day, n, section=section, nationality=nat, sex=sex))
    await sign_in(browser, service.authority.issue(Role.ANALYST, analyst="marri"))
    url = "/dashboard?view=border_section&by2=nationality&by3=sex&measure=events"
    page = await browser.get(url)
    assert page.status_code == 200
    query = TableQuery(by=(Dimension.BORDER_SECTION, Dimension.NATIONALITY, Dimension.SEX))
    cells = service.stats.table(query, service.clock())
    assert table_rows(page.text) == [
        (c.window_start.isoformat(), "|".join(c.values.values()), html.escape(c.display))
        for c in cells
    ]
    assert ("2026-11-20", "MK-RS|AFG|__total__", shown(service, fine_cell(
        day, 17, key_sum=sum(fine_cell(day, n, section="MK-RS", sex=x).key_sum
                             for x, n in (("male", 11), ("female", 6))) % 2**32))) in (
        table_rows(page.text)
    )  # fmt: skip
    assert 'id="chart"' not in page.text  # a cross-table is a table, not a chart
    # measure=events was asked, but people have a nationality and a sex, events do not.
    assert 'id="measure-note"' in page.text and "one count only: Persons" in page.text
    assert "Cross-table with its totals" in table_caption(page.text)
    assert ">Female<" in page.text and ">Sex<" in page.text  # values and headings named
    csv_rows = list(csv.reader(io.StringIO((await browser.get(url.replace(
        "/dashboard", "/dashboard.csv"))).text.split("\n\n")[0])))  # fmt: skip
    assert csv_rows[0][4:7] == ["border_section", "nationality", "sex"]
    assert len(csv_rows) - 1 == len(cells)


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("view=nationality&by2=nationality", "view", "nationality is named twice"),
        ("by2=colour", "by2", '"colour" is not one of the choices'),
        ("from=2026-11-20&to=2026-11-01", "to", "ends (2026-11-01) before it starts"),
        ("period=fortnight", "period", '"fortnight" is not one of the choices'),
        ("from=20.11.2026", "from", '"20.11.2026" is not a date'),
    ],
)
async def test_a_dashboard_query_it_cannot_answer_names_the_field_and_why(
    browser, service, query, field, words
):
    await sign_in(browser, service.authority.issue(Role.ANALYST, analyst="marri"))
    page = await browser.get(f"/dashboard?{query}")
    assert page.status_code == 400
    problem = re.search(r'id="query-errors">(.*?)</div>', page.text, re.S).group(1)
    assert f'href="#{field}"' in problem and words in html.unescape(problem)
    translated = await browser.get(f"/dashboard?{query}&lang=sq")
    assert words not in html.unescape(translated.text)  # shown in Albanian
    assert (await browser.get(f"/dashboard.csv?{query}")).status_code == 400


async def test_the_nationality_chart_shows_the_largest_n_and_says_so(browser, service):
    codes = ["AFG", "BGD", "CUB", "DZA", "EGY", "IRN", "IRQ", "MAR", "NPL", "PAK", "SYR", "TUR"]
    for n, code in enumerate(codes):
        service.stats.apply_fine(fine_cell(date(2026, 11, 20), 10 + 3 * n, nationality=code))
    await sign_in(browser, service.authority.issue(Role.ANALYST, analyst="marri"))
    page = await browser.get("/dashboard?view=nationality&top=5")
    assert [v for _, v, _ in table_rows(page.text)] == [*sorted(codes[-5:]), "__total__"]
    assert "Showing the 5 largest of 12 nationalities." in page.text
    everything = await browser.get("/dashboard?view=nationality&top=0")
    assert len(table_rows(everything.text)) == 12 + 1


@pytest.mark.parametrize(
    ("header", "expected"),
    [("sq-AL,sq;q=0.9", "sq"), ("mk", "mk"), ("sr-Latn-RS", "sr_Latn"), ("bs", "sr_Latn"),
     ("hr-HR", "sr_Latn"), ("de-DE", "en"), (None, "en")],
)  # fmt: skip
def test_the_language_follows_the_browser(header, expected):
    assert choose_locale(None, header) == expected


def test_the_extraction_finds_every_kind_of_string_the_pages_show():
    msgids = page_msgids()
    # A template literal, a translated value of a vocabulary, a rule title, a problem.
    assert {"Skip to content", "critical", "Kosovo*", "Apprehension"} <= msgids
    assert set(RULE_DESCRIPTIONS) <= msgids and set(CONSOLE_WORDS) <= msgids
    assert {TOO_MANY, REPEATED, NOT_FOR_MEASURE, BACKWARDS} <= msgids


def test_the_template_file_holds_every_string_so_translators_see_them():
    with (WEB / "locales" / "messages.pot").open("rb") as handle:
        template = {m.id for m in read_po(handle) if m.id}
    assert not sorted(page_msgids() - template), "run `make messages`"


def test_every_alert_rule_has_its_title_in_the_catalogue():
    rules = load_rules(Path(__file__).resolve().parents[2] / "infra" / "alert_rules.toml")
    assert sorted(rule.description for rule in rules) == sorted(RULE_DESCRIPTIONS)


def test_an_alert_title_shows_in_the_users_language():
    description = RULE_DESCRIPTIONS[0]
    title = f"{description} (BA-ME-2)"
    assert rule_title(title, "BA-ME-2", Translator("sq")) == catalogue("sq")[description]
    assert (
        rule_title("A rule added later (BA-ME)", "BA-ME", Translator("mk")) == "A rule added later"
    )


@pytest.mark.parametrize("locale", [code for code in LOCALES if code != "en"])
def test_every_catalogue_translates_every_string_for_real(locale):
    table = catalogue(locale)
    msgids = page_msgids()
    assert len(msgids) > 30
    missing = sorted(m for m in msgids if not table.get(m))
    assert not missing, missing
    copied = sorted(m for m in msgids if table[m] == m and m not in SAME_IN[locale])
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
    same = same_in(locale)
    english = [m for m in page_msgids() - same if len(m) > 3 and f">{m}<" in html]
    assert not english, english
    assert "Kosova*" in html or "Косово*" in html or "Kosovo*" in html  # the map's names
    again = await browser.get("/console")  # no ?lang: the cookie decides
    assert f'<html lang="{locale}">' in again.text


async def test_sign_in_without_the_forms_own_token_is_refused(browser, service):
    """Login CSRF: another site cannot post its attacker's token into a victim's browser."""
    token = service.authority.issue(Role.ANALYST, analyst="mallory")
    forged = await browser.post("/sign-in", data={"token": token})
    assert forged.status_code == 403 and "wbx_session" not in forged.headers.get("set-cookie", "")
    form = await browser.get("/sign-in")
    browser.cookies.clear()  # the field without the cookie it was paired with
    data = {"token": token, "form_token": form_token_of(form.text)}
    assert (await browser.post("/sign-in", data=data)).status_code == 403


@pytest.mark.parametrize(
    ("role", "target", "expected"),
    [
        (Role.ANALYST, "/dashboard?view=nationality&top=5", "/dashboard?view=nationality&top=5"),
        (Role.PCC_OPERATOR, "/console/alerts/abc", "/console/alerts/abc"),
        (Role.ANALYST, "/console", "/dashboard"),  # not this role's page
        (Role.ANALYST, "https://evil.example/dashboard", "/dashboard"),
        (Role.ANALYST, "//evil.example/dashboard", "/dashboard"),
        (Role.ANALYST, "/dashboard//evil.example", "/dashboard"),
        (Role.ANALYST, "/dashboard\\evil", "/dashboard"),
        (Role.PCC_OPERATOR, "/consoleevil", "/console"),
    ],
)
def test_next_follows_only_the_roles_own_pages(role, target, expected):
    assert safe_next(role, target) == expected


async def test_after_sign_in_the_page_asked_for_opens(browser, service):
    token = service.authority.issue(Role.ANALYST, analyst="marri")
    asked = await browser.get("/dashboard?view=event_type")
    target = parse_qs(urlsplit(asked.headers["location"]).query)["next"][0]
    signed = await sign_in(browser, token, next_page=target)
    assert signed.headers["location"] == "/dashboard?view=event_type"


async def test_the_alert_detail_lists_each_events_conditions(browser, service):
    alert = make_alert("pcc-trebinje", "critical", section="BA-ME")
    service.view("pcc-trebinje").apply_alert(alert, datetime.now(UTC))
    await sign_in(browser, service.authority.issue(Role.PCC_OPERATOR, pcc="pcc-trebinje"))
    page = await browser.get(f"/console/alerts/{alert.id}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "H2: no onward dissemination without the provider's permission" in text
    assert (
        ">Protection<" in text and "B: usually reliable" in text and "2: known personally" in text
    )
    assert "psn:k1:3f9a0c" in text and "Unaccompanied minor" in text  # pseudonymised facts
    assert "Bosnia and Herzegovina \N{EN DASH} Montenegro" in text
    plav = await browser.get(f"/console/alerts/{alert.id}?lang=mk")
    assert "Босна и Херцеговина \N{EN DASH} Црна Гора" in html.unescape(plav.text)
    other = make_alert("pcc-plav")
    service.view("pcc-plav").apply_alert(other, datetime.now(UTC))
    assert (await browser.get(f"/console/alerts/{other.id}")).status_code == 404


async def test_the_consoles_script_acknowledges_with_json_and_keeps_the_note(browser, service):
    alert = make_alert("pcc-trebinje")
    service.view("pcc-trebinje").apply_alert(alert, datetime.now(UTC))
    await sign_in(browser, service.authority.issue(Role.PCC_OPERATOR, pcc="pcc-trebinje"))
    console = await browser.get("/console")
    url = f"/console/alerts/{alert.id}/ack"
    accept = {"Accept": "application/json"}
    refused = await browser.post(url, data={"note": "x"}, headers=accept)
    assert refused.status_code == 403 and "security token" in refused.json()["detail"]
    done = await browser.post(url, data={"csrf": csrf_of(console.text), "note": "team sent"},
                              headers=accept)  # fmt: skip
    assert done.status_code == 200
    body = done.json()
    assert (body["status"], body["note"]) == ("acknowledged", "team sent")
    assert body["display"]["section"] == "Bosnia and Herzegovina \N{EN DASH} Montenegro"


async def test_console_filters_hide_rows_and_the_panel_counts_open_alerts(browser, service):
    view = service.view("pcc-trebinje")
    high = make_alert("pcc-trebinje", "high", section="BA-ME")
    low = make_alert("pcc-trebinje", "low", section="BA-RS-2")
    for alert in (high, low):
        view.apply_alert(alert, datetime.now(UTC))
    await sign_in(browser, service.authority.issue(Role.PCC_OPERATOR, pcc="pcc-trebinje"))
    page = (await browser.get("/console?severity=high")).text
    shown = re.findall(r'<tr id="alert-([^"]+)"[^>]*?(hidden)?>', page, re.S)
    assert dict(shown) == {high.id: "", low.id: "hidden"}
    counts = dict(re.findall(r'<li data-section="([^"]+)">.*?class="count">(\d+)<', page, re.S))
    assert counts == {
        "BA-ME": "1",
        "BA-RS": "1",
        "ME-RS": "0",
    }  # a sub-section counts to its parent
    assert page.count('class="marker') == 3  # each covered section is on the map


async def test_times_show_in_the_chosen_zone_with_utc_on_hover(browser, service):
    moment = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    service.view("pcc-trebinje").apply_alert(make_alert("pcc-trebinje", now=moment), moment)
    await sign_in(browser, service.authority.issue(Role.PCC_OPERATOR, pcc="pcc-trebinje"))
    belgrade = (await browser.get("/console")).text
    assert "1:00\u202fPM" in belgrade or "1:00 PM" in belgrade  # CET by default
    assert 'title="2026-11-20 12:00:00 UTC"' in belgrade
    utc = await browser.get("/console?tz=UTC")
    assert "12:00\u202fPM" in utc.text or "12:00 PM" in utc.text
    assert "wbx_tz=UTC" in utc.headers["set-cookie"]  # remembered
    unknown = (await browser.get("/console?tz=Mars/Olympus")).text
    assert 'value="Europe/Belgrade" selected' in unknown  # an unknown zone falls back


def test_every_value_the_pages_name_has_its_label_in_the_catalogue():
    """A new event type, flag or code must get a label, or it would show untranslated."""
    assert set(EVENT_TYPE_LABELS) == set(PAYLOADS_BY_KIND)
    assert set(VULNERABILITY_LABELS) == {v.value for v in Vulnerability}
    assert set(HANDLING_LABELS) == {h.value for h in Handling}
    assert set(PURPOSE_LABELS) == {p.value for p in Purpose}
    assert set(RELIABILITY_LABELS) == {r.value for r in Reliability}
    assert set(ACCURACY_LABELS) == {a.value for a in Accuracy}


# --- the pages' authorisation matrix: every page by session state ----------------------------

PAGE_OWNERS = [
    ("/console", Role.PCC_OPERATOR),
    ("/console/alerts/{alert}", Role.PCC_OPERATOR),
    ("/console/stream", Role.PCC_OPERATOR),
    ("/dashboard", Role.ANALYST),
    ("/dashboard.csv", Role.ANALYST),
]
SESSIONS = ["none", "operator", "analyst", "expired operator", "signed out analyst"]


@pytest.mark.parametrize(("path", "owner"), PAGE_OWNERS)
@pytest.mark.parametrize("state", SESSIONS)
async def test_each_page_serves_only_its_role_with_a_live_session(
    browser, service, path, owner, state
):
    alert = make_alert("pcc-trebinje")
    service.view("pcc-trebinje").apply_alert(alert, datetime.now(UTC))
    role = {"operator": Role.PCC_OPERATOR, "analyst": Role.ANALYST}.get(state.split()[-1])
    if role is not None:
        binding = {"pcc": "pcc-trebinje"} if role is Role.PCC_OPERATOR else {"analyst": "marri"}
        # A token valid for an hour; "expired" ends the session itself, below (a token
        # about to expire could expire before the sign-in on a slow machine).
        signed = await sign_in(browser, service.authority.issue(role, **binding))
        assert signed.status_code == 303, signed.text
        if state.startswith("expired"):
            sessions = service.sessions._sessions
            for key, session in list(sessions.items()):
                sessions[key] = replace(
                    session, expires_at=datetime.now(UTC) - timedelta(seconds=1)
                )
        if state.startswith("signed out"):
            home = await browser.get("/dashboard")
            await browser.post("/sign-out", data={"csrf": csrf_of(home.text)})
    url = path.format(alert=alert.id)
    allowed = state == ("operator" if owner is Role.PCC_OPERATOR else "analyst")
    if path.endswith("/stream"):
        if allowed:
            return  # an endless stream: served to its operator in tests/browser/test_console.py
        response = await browser.get(url)
        assert response.status_code == 401, (state, url, response.status_code)
        return
    response = await browser.get(url)
    status, location = response.status_code, response.headers.get("location", "")
    if allowed:
        assert status == 200, (state, url)
    else:
        # Anyone else is sent to sign in, and nothing of the page comes with it.
        assert status == 303 and location.startswith("/sign-in?next="), (state, url, status)
