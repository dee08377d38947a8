"""`GET /v1/receipts`: a publisher reads the platform's signed receipts for its own records."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import AwareDatetime

from gateway.api.deps import PublisherPrincipal, ServiceDep
from gateway.api.models import ReceiptKeyOut
from gateway.api.problems import PROBLEM_RESPONSES
from schemas.receipts import RECEIPT_KEY_PURPOSE, Receipt
from schemas.signed import key_id, public_key_text

router = APIRouter(prefix="/v1/receipts", tags=["receipts"])


@router.get("", responses=PROBLEM_RESPONSES)
async def read_receipts(
    service: ServiceDep,
    principal: PublisherPrincipal,
    verdict: Annotated[
        str | None, Query(description="`ok`, `replay` or a quarantine reason", max_length=64)
    ] = None,
    event_id: Annotated[str | None, Query(max_length=256)] = None,
    since: Annotated[
        AwareDatetime | None, Query(description="received at or after this (with offset)")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="received before this (with offset)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> list[Receipt]:
    """The caller's agency's receipts, newest first; never another agency's."""
    view = service.receipts.get(principal.agency or "")
    if view is None:
        raise HTTPException(403, f"the token is bound to unknown agency {principal.agency!r}")
    return view.query(verdict=verdict, event_id=event_id, since=since, until=until, limit=limit)


@router.get("/key", responses=PROBLEM_RESPONSES)
async def read_receipt_key(service: ServiceDep) -> ReceiptKeyOut:
    """The public key receipts are signed with (no token needed: it is public)."""
    key = service.receipt_key
    if key is None:
        raise HTTPException(404, "this gateway is not configured with WBX_RECEIPT_PUBLIC_KEY")
    return ReceiptKeyOut(kid=key_id(key, RECEIPT_KEY_PURPOSE), x=public_key_text(key))
