"""Response bodies of the API (request bodies are the wire contract in schemas/)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from gateway.views import AlertState
from schemas.derived import Alert
from schemas.tables import TableCell


class AlertOut(Alert):
    """An alert as a PCC operator sees it, with acknowledgement and escalation state."""

    received_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    escalated_at: datetime | None = None
    note: str | None = Field(default=None, description="the acknowledging operator's note")

    @classmethod
    def from_state(cls, state: AlertState) -> AlertOut:
        """The operator's view of one alert in a PCC's view."""
        return cls(
            **state.alert.model_dump(exclude={"status"}),
            status=state.status,
            received_at=state.received_at,
            acknowledged_by=state.acknowledged_by,
            acknowledged_at=state.acknowledged_at,
            escalated_at=state.escalated_at,
            note=state.note,
        )


class AckIn(BaseModel):
    """Optional note with an acknowledgement."""

    note: str | None = Field(default=None, max_length=500)


class EventResult(BaseModel):
    """What happened to one submitted event."""

    index: int
    id: str | None
    status: str = Field(examples=["accepted", "rejected"])
    reason: str = Field(examples=["ok", "bad_signature"])
    detail: str = ""


class IngestOut(BaseModel):
    """Per-event outcome of a submission."""

    accepted: int
    rejected: int
    results: list[EventResult]


class StatsOut(BaseModel):
    """A statistics table after disclosure control: cells of 1-4 have count null, display
    '<5'; margins are cells whose value is `__total__` in the dimensions they total."""

    period: str
    measure: str
    group_by: list[str]
    filters: dict[str, list[str]]
    protection: str = Field(description="how every figure was protected")
    cells: list[TableCell]


class Health(BaseModel):
    """Liveness or readiness."""

    status: str
    checks: dict[str, str] = Field(default_factory=dict)


class SignInCodeIn(BaseModel):
    """The token a one-time sign-in code will stand for."""

    token: str = Field(min_length=1, max_length=4096)


class SignInCodeOut(BaseModel):
    """A one-time sign-in code."""

    code: str = Field(examples=["K7PX3MQA"])
    subject: str = Field(examples=["pcc_operator:pcc-trebinje"])
    expires_at: datetime


class PublicKeyOut(BaseModel):
    """A platform public key (a JWK's fields): check a `sig` over RFC 8785 of the record
    without `sig`."""

    kid: str = Field(description="the `signer` its records name")
    alg: Literal["EdDSA"] = "EdDSA"
    crv: Literal["Ed25519"] = "Ed25519"
    x: str = Field(description="the raw public key, unpadded base64url (as in a JWK)")


class ReceiptKeyOut(BaseModel):
    """The platform's receipt key: check a receipt's `sig` over RFC 8785 of it without `sig`."""

    kid: str = Field(description="the `signer` its receipts name")
    alg: Literal["EdDSA"] = "EdDSA"
    crv: Literal["Ed25519"] = "Ed25519"
    x: str = Field(description="the raw public key, unpadded base64url (as in a JWK)")
