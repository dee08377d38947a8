"""The web pages: sign-in, the PCC operators' console, the analysts' dashboard.

Server-rendered (Jinja2), every string from the message catalogues (`i18n.py`), every asset
served by WBX itself. Pages send a Content-Security-Policy that allows only the gateway's own
origin; forms that change something carry the session's CSRF token, and the sign-in form a
token of its own (double-submit cookie), so no other site can sign a browser in.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Cookie, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gateway.api.models import AlertOut
from gateway.api.sse import alert_stream
from gateway.audit import AuditBacklogFullError, export_fact, sign_in_fact
from gateway.auth import Principal, Role, TokenError
from gateway.oidc import LOGIN_TTL
from gateway.service import AlertNotFoundError, GatewayService
from gateway.views import AlertState
from gateway.web import dashboard as board
from gateway.web.border_map import border_map
from gateway.web.i18n import (
    ACCURACY_LABELS,
    CAPTIONS,
    CONSOLE_WORDS,
    EVENT_TYPE_LABELS,
    HANDLING_LABELS,
    LOCALES,
    MEASURE_LABELS,
    N_,
    PERIOD_LABELS,
    PURPOSE_LABELS,
    RELIABILITY_LABELS,
    SUMMARY_LABELS,
    VULNERABILITY_LABELS,
    Translator,
    age_text,
    choose_locale,
    choose_zone,
    rule_title,
)
from gateway.web.sessions import Session
from schemas.derived import AlertStatus, Measure, Period
from schemas.vocab import ImpactLevel

STATIC_DIR = Path(__file__).resolve().parent / "static"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
SESSION_COOKIE = "wbx_session"
SIGN_IN_COOKIE = "wbx_sign_in"
OIDC_COOKIE = "wbx_oidc"
LANG_COOKIE = "wbx_lang"
ZONE_COOKIE = "wbx_tz"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'"
)
HOME = {Role.PCC_OPERATOR: "/console", Role.ANALYST: "/dashboard"}
MAX_FORM_BYTES = 16_384
OPEN_STATUSES = (AlertStatus.OPEN, AlertStatus.ESCALATED)
AUDIT_UNAVAILABLE = N_(
    "The audit trail cannot be written just now, so this is paused. Try again in a minute."
)

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
_templates = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
)


def _service(request: Request) -> GatewayService:
    service: GatewayService = request.app.state.service
    return service


def _translator(request: Request) -> Translator:
    requested = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    zone = request.query_params.get("tz") or request.cookies.get(ZONE_COOKIE)
    return Translator(
        choose_locale(requested, request.headers.get("accept-language")), choose_zone(zone)
    )


def _switch(request: Request, **changes: str) -> str:
    """This page's URL with some query parameters changed (the language and zone switches
    keep the dashboard's filters)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    return "?" + urlencode([*params, *changes.items()])


def _page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A rendered page with its security headers (and the language or zone remembered)."""
    t = _translator(request)
    html = _templates.get_template(template).render(
        _=t.gettext,
        t=t,
        locales=[Translator(code) for code in LOCALES],
        switch=lambda **changes: _switch(request, **changes),
        query=request.query_params,
        **context,
    )
    response = HTMLResponse(html, status_code=status)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    lang = request.query_params.get("lang")
    if lang in (t.tag, t.locale):
        response.set_cookie(LANG_COOKIE, t.locale, max_age=365 * 86_400, samesite="strict")
    if request.query_params.get("tz") == t.zone:
        response.set_cookie(ZONE_COOKIE, t.zone, max_age=365 * 86_400, samesite="strict")
    return response


def _refused(request: Request, status: int, message: str) -> HTMLResponse:
    """A page that says, in the user's language, why a request was refused."""
    return _page(request, "problem.html", status, message=_translator(request).gettext(message))


async def _form(request: Request) -> dict[str, list[str]]:
    """A small url-encoded form (python-multipart is not needed for it)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


def _field(form: dict[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[0]


def _session(request: Request, session_id: str | None) -> Session | None:
    return _service(request).sessions.get(session_id, datetime.now(UTC))


def _to_sign_in(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/sign-in?" + urlencode({"next": target}), status_code=303)


def safe_next(role: Role, target: str) -> str:
    """Where to go after signing in: `target` when it is this role's own page, else its home.

    An allow-list, not a blocklist: only a path on this site under the role's page is
    followed, so `next` can never send a signed-in user to another host.
    """
    home = HOME[role]
    own = target == home or target.startswith((home + "?", home + "/"))
    if own and "//" not in target and "\\" not in target and target.isprintable():
        return target
    return home


SessionCookie = Annotated[str | None, Cookie(alias=SESSION_COOKIE)]
SignInCookie = Annotated[str | None, Cookie(alias=SIGN_IN_COOKIE)]
OidcCookie = Annotated[str | None, Cookie(alias=OIDC_COOKIE)]


@router.get("/")
async def read_home() -> RedirectResponse:
    """The front door: the sign-in page."""
    return RedirectResponse("/sign-in", status_code=307)


def _sign_in_page(request: Request, status: int = 200, error: str | None = None) -> Response:
    """The sign-in form with a fresh sign-in CSRF token, set as a cookie and a field."""
    token = secrets.token_urlsafe(32)
    next_page = request.query_params.get("next", "")
    settings = _service(request).settings
    oidc = None
    if _service(request).oidc_web is not None:
        oidc = settings.oidc_provider_name or urlsplit(settings.oidc_issuer or "").hostname
    response = _page(request, "sign_in.html", status, error=error, form_token=token,
                     next=next_page, oidc=oidc)  # fmt: skip
    _set_cookie(response, request, SIGN_IN_COOKIE, token, path="/sign-in")
    return response


def _set_cookie(
    response: Response,
    request: Request,
    name: str,
    value: str,
    *,
    path: str,
    samesite: Literal["strict", "lax"] = "strict",
    **extra: Any,
) -> None:
    """An HttpOnly cookie, Secure whenever the page came over https."""
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite=samesite,
        secure=request.url.scheme == "https",
        path=path,
        **extra,
    )


@router.get("/sign-in")
async def read_sign_in(request: Request) -> Response:
    """Sign in with a token or a one-time code."""
    return _sign_in_page(request)


@router.post("/sign-in")
async def create_session(request: Request, form_cookie: SignInCookie = None) -> Response:
    """Start a session from a token or a one-time code; refuse with the reason otherwise."""
    service = _service(request)
    form = await _form(request)
    t = _translator(request)
    offered = _field(form, "form_token")
    if not form_cookie or not offered or not secrets.compare_digest(offered, form_cookie):
        error = t.gettext("The sign-in form has expired. Please try again.")
        return _sign_in_page(request, 403, error)
    now = datetime.now(UTC)
    token = _field(form, "token").strip()
    code = _field(form, "code").strip()
    if not token and not code:
        return _sign_in_page(request, 400, t.gettext("Enter a sign-in code or a token."))
    if not token:
        token = service.sign_in_codes.redeem(code, now) or ""
        if not token:
            error = t.gettext("This sign-in code is unknown, used or expired.")
            return _sign_in_page(request, 401, error)
    try:
        principal = service.authority.check(token)
    except TokenError:
        return _sign_in_page(request, 401, t.gettext("This token is not valid or has expired."))
    if principal.role not in HOME or principal.expires_at is None:
        error = t.gettext("This token is not for a PCC operator or an analyst.")
        return _sign_in_page(request, 403, error)
    response = RedirectResponse(safe_next(principal.role, _field(form, "next")), status_code=303)
    response.delete_cookie(SIGN_IN_COOKIE, path="/sign-in")
    how = "a token" if _field(form, "token").strip() else "a sign-in code"
    return await _begin_session(request, response, principal, principal.expires_at, how)


async def _begin_session(
    request: Request, response: Response, principal: Principal, expires_at: datetime, how: str
) -> Response:
    """`response` with the cookie of a new session for `principal` (role checked before),
    once the sign-in is on the audit trail."""
    service = _service(request)
    try:
        await service.record(sign_in_fact(principal, service.clock(), how))
    except AuditBacklogFullError:
        return _refused(request, 503, AUDIT_UNAVAILABLE)
    session = service.sessions.create(principal, expires_at)
    _set_cookie(response, request, SESSION_COOKIE, session.id, path="/", expires=expires_at)
    return response


def _callback_url(request: Request) -> str:
    """The redirect URI registered at the issuer (this gateway's callback by default)."""
    configured = _service(request).settings.oidc_redirect_url
    return configured or str(request.url_for("read_oidc_callback"))


@router.get("/sign-in/oidc")
async def create_oidc_sign_in(request: Request) -> Response:
    """Send the browser to the identity provider (authorisation code with PKCE)."""
    service = _service(request)
    if service.oidc_web is None:
        return _refused(request, 404, N_("Signing in with an identity provider is not set up."))
    login = service.oidc_logins.start(request.query_params.get("next", ""), datetime.now(UTC))
    try:
        target = await asyncio.to_thread(
            service.oidc_web.authorization_url, login, _callback_url(request)
        )
    except TokenError as exc:
        logger.warning("OIDC sign-in cannot start: %s", exc)
        error = N_("The identity provider cannot be reached. Try again, or use a sign-in code.")
        return _sign_in_page(request, 502, _translator(request).gettext(error))
    response = RedirectResponse(target, status_code=303)
    # Binds the sign-in to this browser (no one can finish it in another); Lax, because the
    # browser comes back from the identity provider's site.
    _set_cookie(response, request, OIDC_COOKIE, login.state, path="/sign-in/oidc",
                samesite="lax", max_age=int(LOGIN_TTL.total_seconds()))  # fmt: skip
    return response


@router.get("/sign-in/oidc/callback")
async def read_oidc_callback(request: Request, state_cookie: OidcCookie = None) -> Response:
    """Finish the sign-in the identity provider sends the browser back with."""
    service = _service(request)
    t = _translator(request)
    if service.oidc_web is None:
        return _refused(request, 404, N_("Signing in with an identity provider is not set up."))
    params = request.query_params
    if params.get("error"):
        logger.info("OIDC sign-in refused by the provider: %s", params.get("error"))
        error = t.gettext("Your identity provider did not sign you in. Please try again.")
        return _sign_in_page(request, 401, error)
    state, code = params.get("state", ""), params.get("code", "")
    login = None
    if state and state_cookie and secrets.compare_digest(state, state_cookie):
        login = service.oidc_logins.take(state, datetime.now(UTC))
    if login is None or not code:
        error = t.gettext(
            "This sign-in has expired or was started in another browser. Please try again."
        )
        return _sign_in_page(request, 403, error)
    try:
        principal = await asyncio.to_thread(
            service.oidc_web.exchange, code, login, _callback_url(request)
        )
    except TokenError as exc:
        logger.warning("OIDC sign-in refused: %s", exc)
        error = t.gettext("Your identity provider's answer could not be accepted.")
        return _sign_in_page(request, 401, error)
    if principal.role not in HOME or principal.expires_at is None:
        error = t.gettext("This account is not a PCC operator's or an analyst's.")
        return _sign_in_page(request, 403, error)
    # A page, not a redirect: the session cookie is SameSite=Strict, and a redirect that
    # began on the provider's site would not carry it to the next page.
    target = safe_next(principal.role, login.next)
    response = _page(request, "signed_in.html", target=target)
    response.delete_cookie(OIDC_COOKIE, path="/sign-in/oidc")
    return await _begin_session(
        request, response, principal, principal.expires_at, "the identity provider"
    )


@router.post("/sign-out")
async def delete_session(request: Request, session_id: SessionCookie = None) -> Response:
    """End the session (the CSRF token proves the form came from our page)."""
    session = _session(request, session_id)
    form = await _form(request)
    if session is not None and not session.csrf_ok(_field(form, "csrf")):
        return _refused(request, 403, N_("The form's security token is missing or wrong."))
    _service(request).sessions.end(session_id)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _operator(request: Request, session_id: str | None) -> Session | None:
    session = _session(request, session_id)
    if session is None or session.principal.role is not Role.PCC_OPERATOR:
        return None
    return session


def _display(state: AlertState, t: Translator) -> dict[str, str]:
    """An alert's words in the user's language (the rows and the live stream share them)."""
    alert = state.alert
    return {
        "title": rule_title(alert.title, alert.border_section, t),
        "section": t.section(alert.border_section),
        "parent": "-".join(alert.border_section.split("-")[:2]),
    }


def _alert_row(state: AlertState, t: Translator, now: datetime) -> dict[str, Any]:
    """What a row of the console shows for one alert (the script builds the same)."""
    age = age_text((now - state.alert.time).total_seconds(), t)
    return {"state": state, **_display(state, t), "age": age}


@router.get("/console")
async def read_console(request: Request, session_id: SessionCookie = None) -> Response:
    """The alerts of the operator's PCC, newest first, with filters and the section panel."""
    session = _operator(request, session_id)
    if session is None:
        return _to_sign_in(request)
    service = _service(request)
    pcc_id = session.principal.pcc or ""
    pcc = service.reference.pccs.get(pcc_id)
    view = service.view_of(pcc_id)
    states = list(reversed(view.alerts.values())) if view is not None else []
    t = _translator(request)
    now = datetime.now(UTC)
    sections = list(pcc.sections) if pcc is not None else []
    open_counts = dict.fromkeys(sections, 0)
    for state in states:
        parent = "-".join(state.alert.border_section.split("-")[:2])
        if state.status in OPEN_STATUSES and parent in open_counts:
            open_counts[parent] += 1
    words = {w: t.gettext(w) for w in CONSOLE_WORDS}
    words.update({f"section:{s}": t.section(s) for s in sections})
    return _page(
        request,
        "console.html",
        # A JSON data block, not a script: "</" is escaped so no string can close the element.
        words=json.dumps(words, ensure_ascii=False).replace("</", "<\\/"),
        session=session,
        pcc=pcc,
        rows=[_alert_row(state, t, now) for state in states],
        seq=view.seq if view is not None else 0,
        sections=sections,
        open_counts=open_counts,
        map=border_map(service.reference, sections),
        filters={
            "status": request.query_params.get("status", ""),
            "severity": request.query_params.get("severity", ""),
            "section": request.query_params.get("section", ""),
        },
        statuses=list(AlertStatus),
        severities=list(reversed(ImpactLevel)),
    )


@router.get("/console/alerts/{alert_id}")
async def read_console_alert(
    request: Request, alert_id: str, session_id: SessionCookie = None
) -> Response:
    """One alert in detail: the pseudonymised events behind it and their conditions."""
    session = _operator(request, session_id)
    if session is None:
        return _to_sign_in(request)
    view = _service(request).view_of(session.principal.pcc)
    state = view.alerts.get(alert_id) if view is not None else None
    if state is None:
        return _refused(request, 404, N_("There is no such alert in this centre."))
    t = _translator(request)
    agencies = _service(request).reference.agencies

    def agency(source: str) -> str:
        agency_id = source.rsplit(":", 1)[-1]
        known = agencies.get(agency_id)
        return f"{agency_id} ({t.country(known.participant)})" if known else source

    def fact(key: str, value: Any) -> str:
        items = value if isinstance(value, list) else [value]
        if key == "vulnerabilities":
            items = [t.gettext(VULNERABILITY_LABELS.get(str(v), str(v))) for v in items]
        elif key == "heading_to":
            items = [t.country(str(v)) for v in items]
        return ", ".join(str(v) for v in items)

    return _page(
        request,
        "alert.html",
        session=session,
        row=_alert_row(state, t, datetime.now(UTC)),
        events=list(reversed(state.alert.events)),
        agency=agency,
        fact=fact,
        handling=HANDLING_LABELS,
        purposes=PURPOSE_LABELS,
        reliabilities=RELIABILITY_LABELS,
        accuracies=ACCURACY_LABELS,
        event_types=EVENT_TYPE_LABELS,
        summary_labels=SUMMARY_LABELS,
    )


@router.get("/console/stream")
async def read_console_stream(request: Request, session_id: SessionCookie = None) -> Response:
    """The console's live feed: the PCC's alert changes as Server-Sent Events."""
    session = _operator(request, session_id)
    if session is None:
        return Response("sign in first", status_code=401)
    view = _service(request).view_of(session.principal.pcc)
    if view is None:
        return Response("no such PCC", status_code=404)
    after = request.query_params.get("after")
    t = _translator(request)
    last = request.headers.get("last-event-id")
    return alert_stream(request, view, last, after, lambda state: _display(state, t))


@router.post("/console/alerts/{alert_id}/ack")
async def create_console_ack(
    request: Request, alert_id: str, session_id: SessionCookie = None
) -> Response:
    """Acknowledge an alert from the console (with the session's CSRF token).

    The console's script asks for JSON and gets the alert as acknowledged; a plain form post
    is sent back to the page it came from.
    """
    wants_json = "application/json" in request.headers.get("accept", "")
    session = _operator(request, session_id)
    if session is None:
        if wants_json:
            return JSONResponse({"detail": "sign in first"}, status_code=401)
        return _to_sign_in(request)
    form = await _form(request)
    if not session.csrf_ok(_field(form, "csrf")):
        message = N_("The form's security token is missing or wrong.")
        if wants_json:
            return JSONResponse({"detail": _translator(request).gettext(message)}, 403)
        return _refused(request, 403, message)
    note = _field(form, "note").strip()[:500] or None
    try:
        state = await _service(request).acknowledge(
            session.principal.pcc or "", alert_id, session.principal.subject, note
        )
    except AlertNotFoundError:
        message = N_("There is no such alert in this centre.")
        if wants_json:
            return JSONResponse({"detail": _translator(request).gettext(message)}, 404)
        return _refused(request, 404, message)
    except AuditBacklogFullError:
        if wants_json:
            return JSONResponse({"detail": _translator(request).gettext(AUDIT_UNAVAILABLE)}, 503)
        return _refused(request, 503, AUDIT_UNAVAILABLE)
    if wants_json:
        out = AlertOut.from_state(state).model_dump(mode="json")
        return JSONResponse({**out, "display": _display(state, _translator(request))})
    back = _field(form, "back")
    target = back if back == f"/console/alerts/{alert_id}" else "/console"
    return RedirectResponse(target, status_code=303)


def _analyst(request: Request, session_id: str | None) -> Session | None:
    session = _session(request, session_id)
    if session is None or session.principal.role is not Role.ANALYST:
        return None
    return session


def _dashboard(request: Request) -> board.Dashboard:
    query, errors = board.parse_query(
        {k: request.query_params.getlist(k) for k in request.query_params}
    )
    service = _service(request)
    return board.build(service.stats, query, errors, _translator(request), service.clock())


@router.get("/dashboard")
async def read_dashboard(request: Request, session_id: SessionCookie = None) -> Response:
    """Regional statistics after disclosure control: a chart, its table, the CSV of both."""
    session = _analyst(request, session_id)
    if session is None:
        return _to_sign_in(request)
    result = _dashboard(request)
    reference = _service(request).reference
    t = _translator(request)
    return _page(
        request,
        "dashboard.html",
        400 if result.errors else 200,
        session=session,
        board=result,
        chart=json.dumps(result.chart, ensure_ascii=False).replace("</", "<\\/"),
        csv_url="/dashboard.csv?" + request.url.query,
        views=[(v.value, t.gettext(board.VIEW_LABELS[v])) for v in board.View],
        views_by_value={v.value: t.gettext(board.VIEW_LABELS[v]) for v in board.View},
        field_labels=board.FIELD_LABELS,
        measure_labels=MEASURE_LABELS,
        period_labels=PERIOD_LABELS,
        captions=CAPTIONS,
        measures=list(Measure),
        periods=list(Period),
        tops=board.TOP_CHOICES,
        participants=[(code, t.country(code)) for code in reference.participants],
        sections=[(s, t.section(s)) for s in reference.sections],
        event_types=[(k, t.gettext(v)) for k, v in EVENT_TYPE_LABELS.items()],
        fixed_measure=result.query.fixed_measure,
        crosses=[(d.value, t.gettext(label)) for d, label in board.CROSS_LABELS.items()],
        columns=[
            t.gettext(board.CROSS_LABELS.get(d, board.VIEW_LABELS[result.query.view]))
            for d in result.dimensions
        ],
        protection_note=board.PROTECTION_NOTE,
    )


@router.get("/dashboard.csv")
async def read_dashboard_csv(request: Request, session_id: SessionCookie = None) -> Response:
    """Exactly the table the dashboard shows for the same query, as CSV."""
    session = _analyst(request, session_id)
    if session is None:
        return _to_sign_in(request)
    result = _dashboard(request)
    t = _translator(request)
    if result.errors:
        return _refused(request, 400, N_("This query cannot be answered; change the filters."))
    name = f"wbx-{result.query.view.value}-{result.query.period.value}.csv"
    service = _service(request)
    try:
        fact = export_fact(session.principal, service.clock(), name, str(request.url.query))
        await service.record(fact)
    except AuditBacklogFullError:
        return _refused(request, 503, AUDIT_UNAVAILABLE)
    return Response(
        board.to_csv(result, " ".join(t.gettext(m) for m in board.PROTECTION_NOTE)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def install_web(app: FastAPI) -> None:
    """Mount the pages and their static assets on the gateway app."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
