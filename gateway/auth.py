"""Bearer tokens: EdDSA-signed JWTs naming a role and what it is bound to."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from schemas.errors import WbxError
from schemas.keys import load_or_create_private_key

if TYPE_CHECKING:
    from gateway.oidc import OidcVerifier


class TokenError(WbxError):
    """A bearer token is missing, malformed, forged or expired."""


class ForbiddenError(WbxError):
    """An authenticated caller asked for something its role or binding does not allow."""


class Role(StrEnum):
    """Who a caller is."""

    PUBLISHER = "publisher"
    PCC_OPERATOR = "pcc_operator"
    ANALYST = "analyst"
    ADMIN = "admin"
    DPO = "dpo"
    """A data-protection officer: reads the audit trail (ids, times, recipients), no data."""


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: role plus binding (agency, PCC or analyst name)."""

    subject: str
    role: Role
    agency: str | None = None
    pcc: str | None = None
    analyst: str | None = None
    expires_at: datetime | None = None
    name: str | None = None
    """A person's name to show on the pages (an identity provider's `name` claim)."""


def decode_token(
    token: str, key: Any, algorithms: list[str], audience: str, issuer: str
) -> dict[str, Any]:
    """A token's claims once its signature, audience, issuer and times hold; TokenError
    (saying which) otherwise. The one token check of the gateway and its OIDC issuer."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=audience,
            issuer=issuer,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("the token has expired") from None
    except jwt.InvalidTokenError as exc:
        raise TokenError(f"the token is not valid: {exc}") from None
    return claims


def _claimed_issuer(token: str) -> str | None:
    """The `iss` a token claims before any check: which authority must check it."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return None
    issuer = claims.get("iss")
    return issuer if isinstance(issuer, str) else None


class TokenAuthority:
    """Issues and checks tokens with one platform Ed25519 key."""

    def __init__(self, private_key: Ed25519PrivateKey, issuer: str, audience: str) -> None:
        self._private = private_key
        self.public: Ed25519PublicKey = private_key.public_key()
        self.issuer = issuer
        self.audience = audience
        self.oidc: OidcVerifier | None = None
        """An agency's identity provider whose access tokens are trusted too (if set)."""

    @classmethod
    def from_file(cls, path: Path, issuer: str, audience: str) -> TokenAuthority:
        """Load the platform key, creating it (mode 0600) on first use."""
        return cls(load_or_create_private_key(path), issuer, audience)

    def issue(
        self,
        role: Role,
        *,
        agency: str | None = None,
        pcc: str | None = None,
        analyst: str | None = None,
        ttl: timedelta = timedelta(hours=12),
        now: datetime | None = None,
    ) -> str:
        """A signed token for one role and binding."""
        required = {Role.PUBLISHER: agency, Role.PCC_OPERATOR: pcc, Role.ANALYST: analyst}
        if role in required and not required[role]:
            raise ForbiddenError(f"a {role} token must be bound (--agency, --pcc or --analyst)")
        moment = now or datetime.now(UTC)
        subject = agency or pcc or analyst or role.value
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": f"{role}:{subject}",
            "role": role.value,
            "iat": int(moment.timestamp()),
            "nbf": int(moment.timestamp()) - 5,
            "exp": int((moment + ttl).timestamp()),
            "jti": str(uuid.uuid4()),
        }
        for name, value in (("agency", agency), ("pcc", pcc), ("analyst", analyst)):
            if value:
                claims[name] = value
        return jwt.encode(claims, self._private, algorithm="EdDSA")

    def check(self, token: str) -> Principal:
        """The principal of a valid token (ours, or the configured identity provider's);
        TokenError says why a token is refused."""
        if self.oidc is not None and _claimed_issuer(token) == self.oidc.issuer:
            return self.oidc.check(token)
        claims = decode_token(token, self.public, ["EdDSA"], self.audience, self.issuer)
        try:
            role = Role(str(claims.get("role")))
        except ValueError:
            raise TokenError("the token names no known role") from None
        return Principal(
            subject=str(claims["sub"]),
            role=role,
            agency=claims.get("agency"),
            pcc=claims.get("pcc"),
            analyst=claims.get("analyst"),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=UTC),
        )
