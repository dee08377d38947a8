"""`POST /v1/sign-in-codes`: an administrator turns a token into a one-time sign-in code."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, status

from gateway.api.deps import AdminPrincipal, ServiceDep
from gateway.api.models import SignInCodeIn, SignInCodeOut
from gateway.api.problems import PROBLEM_RESPONSES
from gateway.auth import TokenError
from gateway.web.sessions import CODE_TTL

router = APIRouter(prefix="/v1/sign-in-codes", tags=["sign-in"])


@router.post("", status_code=status.HTTP_201_CREATED, responses=PROBLEM_RESPONSES)
async def create_sign_in_code(
    body: SignInCodeIn, service: ServiceDep, principal: AdminPrincipal
) -> SignInCodeOut:
    """A short code that signs a browser in once, as the token's holder, within 10 minutes.

    For the desk: the code can be read out or typed, the token never enters the browser.
    """
    try:
        holder = service.authority.check(body.token)
    except TokenError as exc:
        raise HTTPException(422, f"token: {exc}") from None
    now = datetime.now(UTC)
    code = service.sign_in_codes.issue(body.token, now)
    return SignInCodeOut(code=code, subject=holder.subject, expires_at=now + CODE_TTL)
