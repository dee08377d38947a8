"""The web pages: sign-in, the PCC operators' console, the analysts' dashboard.

Server-rendered (Jinja2), every string from the message catalogues (`i18n.py`), every asset
served by WBX itself. Pages send a Content-Security-Policy that allows only the gateway's own
origin; forms that change something carry the session's CSRF token.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Cookie, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gateway.api.sse import alert_stream
from gateway.auth import Role, TokenError
from gateway.service import AlertNotFoundError, GatewayService
from gateway.web.i18n import LOCALES, Translator, choose_locale
from gateway.web.sessions import Session
from schemas.derived import AlertStatus, Dimension, Measure, Period
from schemas.vocab import ImpactLevel

STATIC_DIR = Path(__file__).resolve().parent / "static"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
SESSION_COOKIE = "wbx_session"
LANG_COOKIE = "wbx_lang"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'"
)
HOME = {Role.PCC_OPERATOR: "/console", Role.ANALYST: "/dashboard"}
CONSOLE_WORDS = (
    "Live",
    "Connection lost, reconnecting…",
    "Acknowledge",
    "Acknowledged by",
    "Note (optional)",
    "Note",
    *(level.value for level in ImpactLevel),
    *(status.value for status in AlertStatus),
)
"""What the console's script writes into new rows, translated on the server."""
MAX_FORM_BYTES = 16_384

router = APIRouter(include_in_schema=False)
_templates = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html"])
)


def _service(request: Request) -> GatewayService:
    service: GatewayService = request.app.state.service
    return service


def _translator(request: Request) -> Translator:
    requested = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return Translator(choose_locale(requested, request.headers.get("accept-language")))


def _page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A rendered page with its security headers (and the language remembered if switched)."""
    t = _translator(request)
    html = _templates.get_template(template).render(
        _=t.gettext, t=t, locales=[Translator(code) for code in LOCALES], **context
    )
    response = HTMLResponse(html, status_code=status)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    if request.query_params.get("lang") == t.tag or request.query_params.get("lang") == t.locale:
        response.set_cookie(LANG_COOKIE, t.locale, max_age=365 * 86_400, samesite="strict")
    return response


async def _form(request: Request) -> dict[str, str]:
    """A small url-encoded form (python-multipart is not needed for it)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def _session(request: Request, session_id: str | None) -> Session | None:
    return _service(request).sessions.get(session_id, datetime.now(UTC))


def _to_sign_in(next_page: str) -> RedirectResponse:
    return RedirectResponse(f"/sign-in?next={next_page}", status_code=303)


SessionCookie = Annotated[str | None, Cookie(alias=SESSION_COOKIE)]


@router.get("/")
async def read_home() -> RedirectResponse:
    """The front door: the sign-in page."""
    return RedirectResponse("/sign-in", status_code=307)


@router.get("/sign-in")
async def read_sign_in(request: Request) -> HTMLResponse:
    """Sign in with a token or a one-time code."""
    return _page(request, "sign_in.html", error=None, next=request.query_params.get("next", ""))


@router.post("/sign-in")
async def create_session(request: Request) -> Response:
    """Start a session from a token or a one-time code; refuse with the reason otherwise."""
    service = _service(request)
    form = await _form(request)
    t = _translator(request)
    now = datetime.now(UTC)
    token = form.get("token", "").strip()
    code = form.get("code", "").strip()
    if not token and code:
        token = service.sign_in_codes.redeem(code, now) or ""
        if not token:
            error = t.gettext("This sign-in code is unknown, used or expired.")
            return _page(request, "sign_in.html", 401, error=error, next=form.get("next", ""))
    try:
        principal = service.authority.check(token)
    except TokenError:
        error = t.gettext("This token is not valid or has expired.")
        return _page(request, "sign_in.html", 401, error=error, next=form.get("next", ""))
    home = HOME.get(principal.role)
    if home is None or principal.expires_at is None:
        error = t.gettext("This token is not for a PCC operator or an analyst.")
        return _page(request, "sign_in.html", 403, error=error, next=form.get("next", ""))
    session = service.sessions.create(principal, principal.expires_at)
    response = RedirectResponse(home, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session.id,
        expires=principal.expires_at,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/sign-out")
async def delete_session(request: Request, session_id: SessionCookie = None) -> Response:
    """End the session (the CSRF token proves the form came from our page)."""
    session = _session(request, session_id)
    form = await _form(request)
    if session is not None and not session.csrf_ok(form.get("csrf")):
        return Response("CSRF token missing or wrong", status_code=403)
    _service(request).sessions.end(session_id)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/console")
async def read_console(request: Request, session_id: SessionCookie = None) -> Response:
    """The alerts of the operator's PCC, newest first."""
    session = _session(request, session_id)
    if session is None or session.principal.role is not Role.PCC_OPERATOR:
        return _to_sign_in("/console")
    service = _service(request)
    pcc = session.principal.pcc or ""
    view = service.alerts.get(pcc)
    states = list(reversed(view.alerts.values())) if view is not None else []
    t = _translator(request)
    words = {w: t.gettext(w) for w in CONSOLE_WORDS}
    return _page(
        request,
        "console.html",
        # A JSON data block, not a script: "</" is escaped so no string can close the element.
        words=json.dumps(words, ensure_ascii=False).replace("</", "<\\/"),
        session=session,
        pcc=service.reference.pccs.get(pcc),
        alerts=states,
        seq=view.seq if view is not None else 0,
        now=datetime.now(UTC),
    )


@router.get("/console/stream")
async def read_console_stream(request: Request, session_id: SessionCookie = None) -> Response:
    """The console's live feed: the PCC's alert changes as Server-Sent Events."""
    session = _session(request, session_id)
    if session is None or session.principal.role is not Role.PCC_OPERATOR:
        return Response("sign in first", status_code=401)
    view = _service(request).alerts.get(session.principal.pcc or "")
    if view is None:
        return Response("no such PCC", status_code=404)
    after = request.query_params.get("after")
    return alert_stream(request, view, request.headers.get("last-event-id"), after)


@router.post("/console/alerts/{alert_id}/ack")
async def create_console_ack(
    request: Request, alert_id: str, session_id: SessionCookie = None
) -> Response:
    """Acknowledge an alert from the console (with the session's CSRF token)."""
    session = _session(request, session_id)
    if session is None or session.principal.role is not Role.PCC_OPERATOR:
        return _to_sign_in("/console")
    form = await _form(request)
    if not session.csrf_ok(form.get("csrf")):
        return Response("CSRF token missing or wrong", status_code=403)
    note = form.get("note", "").strip()[:500] or None
    try:
        await _service(request).acknowledge(
            session.principal.pcc or "", alert_id, session.principal.subject, note
        )
    except AlertNotFoundError:
        return Response("no such alert in this PCC", status_code=404)
    return RedirectResponse("/console", status_code=303)


@router.get("/dashboard")
async def read_dashboard(request: Request, session_id: SessionCookie = None) -> Response:
    """Regional statistics after disclosure control: persons per day by nationality."""
    session = _session(request, session_id)
    if session is None or session.principal.role is not Role.ANALYST:
        return _to_sign_in("/dashboard")
    cells = _service(request).stats.query(Period.DAY, Measure.PERSONS, Dimension.NATIONALITY)
    return _page(request, "dashboard.html", session=session, cells=cells)


def install_web(app: FastAPI) -> None:
    """Mount the pages and their static assets on the gateway app."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
