"""`GET /v1/audit`: the data-protection officer's questions to the audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from gateway.api.deps import AuditReader, DpoPrincipal, ServiceDep
from gateway.api.models import PublicKeyOut
from gateway.api.problems import PROBLEM_RESPONSES
from schemas.audit import AuditAction, AuditCheckpoint, AuditQuery, AuditRecord
from schemas.signed import public_key_text
from schemas.trail import published_checkpoints, query_trail
from schemas.vocab import Purpose

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("", responses=PROBLEM_RESPONSES)
async def read_audit(
    service: ServiceDep,
    principal: DpoPrincipal,
    event_id: Annotated[str | None, Query(max_length=256)] = None,
    pseudonym: Annotated[
        list[str] | None, Query(description="`psn:...`, as `wbx dpo subject` computes it")
    ] = None,
    recipient: Annotated[
        str | None, Query(description="e.g. `pcc:pcc-trebinje`", max_length=256)
    ] = None,
    purpose: Purpose | None = None,
    action: AuditAction | None = None,
    since: Annotated[AwareDatetime | None, Query(description="at or after (with offset)")] = None,
    until: Annotated[AwareDatetime | None, Query(description="before (with offset)")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1_000,
) -> list[AuditRecord]:
    """The audit records that answer every criterion given, oldest first, once per fact.

    Ids, times, recipients, purposes and pseudonyms: what was released to whom, never the
    data itself. The trail is read from Kafka for each question, so answers are complete.
    """
    query = AuditQuery(
        event_id=event_id,
        pseudonyms=frozenset(pseudonym or ()),
        recipient=recipient,
        purpose=purpose,
        action=action,
        since=since,
        until=until,
    )
    return await query_trail(service.kafka, query, limit)


@router.get("/checkpoints", responses=PROBLEM_RESPONSES)
async def read_audit_checkpoints(
    service: ServiceDep, principal: AuditReader
) -> list[AuditCheckpoint]:
    """The latest signed head of each audit chain: keep them, and hold the trail to them
    later (`wbx audit verify --checkpoints`)."""
    return await published_checkpoints(service.kafka)


@router.get("/key", responses=PROBLEM_RESPONSES)
async def read_audit_key(service: ServiceDep) -> PublicKeyOut:
    """This gateway's audit key (public): the signer of its chain (no token needed)."""
    chain = service.audit.chain
    return PublicKeyOut(kid=chain.signer, x=public_key_text(chain.public_key))
