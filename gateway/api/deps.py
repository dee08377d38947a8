"""FastAPI dependencies: the service, the authenticated principal, role checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gateway.auth import Principal, Role, TokenError
from gateway.service import GatewayService
from gateway.views import StatsQueryError, TableQuery
from schemas.derived import Dimension, Measure, Period
from schemas.tables import TableCell

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
AdminPrincipal = Annotated[Principal, Depends(require(Role.ADMIN))]
DpoPrincipal = Annotated[Principal, Depends(require(Role.DPO))]
AuditReader = Annotated[Principal, Depends(require(Role.DPO, Role.ADMIN))]


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


@dataclass(frozen=True)
class StatsQuery:
    """The query parameters both statistics endpoints accept."""

    period: Period = Period.DAY
    measure: Measure = Measure.PERSONS
    group_by: Annotated[
        list[str] | None,
        Query(
            description="up to three dimensions to cross, repeated or comma-separated "
            "(border_section,nationality,sex); a filter alone implies its dimension"
        ),
    ] = None
    start: Annotated[date | None, Query(alias="from")] = None
    end: Annotated[date | None, Query(alias="to")] = None
    participant: Annotated[list[str] | None, Query()] = None
    border_section: Annotated[list[str] | None, Query()] = None
    event_type: Annotated[list[str] | None, Query()] = None
    nationality: Annotated[list[str] | None, Query()] = None
    sex: Annotated[list[str] | None, Query()] = None
    age_band: Annotated[list[str] | None, Query()] = None
    vulnerability: Annotated[list[str] | None, Query()] = None

    def table_query(self) -> TableQuery:
        """The table asked for; 400 naming the parameter when it cannot be answered."""
        names = [n.strip() for raw in self.group_by or [] for n in raw.split(",") if n.strip()]
        unknown = [n for n in names if n not in Dimension.__members__.values()]
        if unknown:
            choices = ", ".join(d.value for d in Dimension)
            raise HTTPException(400, f"group_by: {unknown[0]!r} is not one of {choices}")
        filters = {
            Dimension.PARTICIPANT: self.participant,
            Dimension.BORDER_SECTION: self.border_section,
            Dimension.EVENT_TYPE: self.event_type,
            Dimension.NATIONALITY: self.nationality,
            Dimension.SEX: self.sex,
            Dimension.AGE_BAND: self.age_band,
            Dimension.VULNERABILITY: self.vulnerability,
        }
        chosen = {d: tuple(v) for d, v in filters.items() if v}
        query = TableQuery(
            period=self.period,
            measure=self.measure,
            # A filter alone implies its dimension: ?nationality=AFG is AFG's row and total.
            by=tuple(Dimension(n) for n in names) or tuple(chosen),
            filters=chosen,
            start=self.start,
            end=self.end,
        )
        try:
            return query.checked()
        except StatsQueryError as exc:
            raise HTTPException(400, f"{exc.field}: {exc}") from None

    def select(self, service: GatewayService) -> tuple[TableQuery, list[TableCell]]:
        """The table asked for and its cells, protected."""
        query = self.table_query()
        return query, service.stats.table(query, service.clock())


QueryDep = Annotated[StatsQuery, Depends()]
"""The statistics query of `/v1/stats` and `/v1/stats.csv`."""
