"""FastAPI dependencies: the service, the authenticated principal, role checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gateway.auth import Principal, Role, TokenError
from gateway.service import GatewayService

_bearer = HTTPBearer(auto_error=False, description="Token from `wbx tokens issue`")


def get_service(request: Request) -> GatewayService:
    """The gateway service of this app."""
    service: GatewayService = request.app.state.service
    return service


ServiceDep = Annotated[GatewayService, Depends(get_service)]


def get_principal(
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller named by a valid bearer token (401 otherwise)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "an Authorization: Bearer token is required")
    try:
        return service.authority.check(credentials.credentials)
    except TokenError as exc:
        raise HTTPException(401, str(exc)) from None


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency admitting only the given roles (403 for others)."""

    def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise HTTPException(
                403, f"role {principal.role.value} may not do this (needs {allowed})"
            )
        return principal

    return check


PublisherPrincipal = Annotated[Principal, Depends(require(Role.PUBLISHER))]
AlertReader = Annotated[Principal, Depends(require(Role.PCC_OPERATOR, Role.ADMIN))]
OperatorPrincipal = Annotated[Principal, Depends(require(Role.PCC_OPERATOR))]
StatsReader = Annotated[Principal, Depends(require(Role.ANALYST, Role.ADMIN))]


def pcc_of(principal: Principal, requested: str | None, service: GatewayService) -> str:
    """The PCC whose alerts the caller may see: its own, or (admin) the one it names."""
    if principal.role is Role.PCC_OPERATOR:
        if principal.pcc not in service.alerts:
            raise HTTPException(403, f"the token is bound to unknown PCC {principal.pcc!r}")
        if requested is not None and requested != principal.pcc:
            raise HTTPException(403, f"this token sees only {principal.pcc}")
        return principal.pcc
    if requested is None or requested not in service.alerts:
        raise HTTPException(400, f"admin must name a PCC: ?pcc= one of {sorted(service.alerts)}")
    return requested
