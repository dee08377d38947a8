"""Access tokens from an agency's OpenID Connect provider (Keycloak, a national IdP).

The gateway trusts one configured issuer besides its own: a token whose `iss` is that
issuer is checked against the issuer's published keys (JWKS, fetched and cached by PyJWT's
`PyJWKClient`, refetched when a token names a key it has not seen, at most once per
`oidc_jwks_cooldown`, so key rotation needs no restart), its audience and expiry; its
claims then map to a WBX role and binding. Only API tokens so far: the web pages still
sign in with one-time codes.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import jwt

from gateway.auth import Principal, Role, TokenError, decode_token
from gateway.settings import GatewaySettings

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA"]
"""Asymmetric algorithms only: a shared-secret token could be forged by anyone holding it."""


def claim(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by dotted path (`realm_access.roles` in Keycloak), None when absent."""
    node: Any = claims
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


class OidcVerifier:
    """Checks access tokens of one issuer and maps their claims to a `Principal`."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks_url: str | None = None,
        *,
        role_claim: str = "wbx_role",
        role_map: Mapping[str, str] | None = None,
        agency_claim: str = "wbx_agency",
        pcc_claim: str = "wbx_pcc",
        analyst_claim: str = "preferred_username",
        jwks_cooldown: float = 30.0,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self._jwks_url = jwks_url
        self._client: jwt.PyJWKClient | None = None
        self.role_claim = role_claim
        # IdP role name -> WBX role; without a map, the WBX role names themselves.
        self.role_map = dict(role_map or {r.value: r.value for r in Role})
        self.agency_claim = agency_claim
        self.pcc_claim = pcc_claim
        self.analyst_claim = analyst_claim
        # At most one refetch per cooldown for unknown key ids: tokens naming made-up keys
        # must not turn the gateway into a stream of requests to the IdP.
        self.jwks_cooldown = jwks_cooldown

    def _keys(self) -> jwt.PyJWKClient:
        if self._client is None:
            url = self._jwks_url or _discover_jwks(self.issuer)
            self._client = jwt.PyJWKClient(
                url,
                cache_jwk_set=True,
                lifespan=300,
                timeout=5,
                cooldown_duration=self.jwks_cooldown,
            )
        return self._client

    def check(self, token: str) -> Principal:
        """The principal of a valid token of this issuer; TokenError says why not."""
        try:
            key = self._keys().get_signing_key_from_jwt(token)
        except jwt.PyJWKClientError as exc:
            raise TokenError(f"the token's key is not one of {self.issuer}'s: {exc}") from None
        except jwt.InvalidTokenError as exc:
            raise TokenError(f"the token is not valid: {exc}") from None
        claims = decode_token(token, key.key, ALGORITHMS, self.audience, self.issuer)
        return self.principal(claims)

    def principal(self, claims: Mapping[str, Any]) -> Principal:
        """The WBX role and binding the claims name; TokenError when they name none."""
        named = claim(claims, self.role_claim)
        candidates = named if isinstance(named, list) else [named]
        roles = sorted({self.role_map[r] for r in candidates if isinstance(r, str)
                        and r in self.role_map})  # fmt: skip
        if len(roles) != 1:
            found = "no WBX role" if not roles else f"several WBX roles ({', '.join(roles)})"
            raise TokenError(f"the token's claim {self.role_claim!r} maps to {found}")
        role = Role(roles[0])
        binding = {
            Role.PUBLISHER: ("agency", self.agency_claim),
            Role.PCC_OPERATOR: ("pcc", self.pcc_claim),
            Role.ANALYST: ("analyst", self.analyst_claim),
        }.get(role)
        bound: dict[str, str] = {}
        if binding is not None:
            value = claim(claims, binding[1])
            if not isinstance(value, str) or not value:
                raise TokenError(f"a {role} token needs the claim {binding[1]!r}")
            bound[binding[0]] = value
        return Principal(
            subject=f"oidc:{claims['sub']}",
            role=role,
            expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=UTC),
            **bound,
        )


def _discover_jwks(issuer: str) -> str:
    """The issuer's `jwks_uri` from its OpenID configuration document."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    if not url.startswith("https://") and not url.startswith("http://127.0.0.1"):
        raise TokenError(f"the OIDC issuer {issuer} must be https")
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - https checked
            document = json.load(response)
    except (OSError, ValueError) as exc:
        raise TokenError(f"cannot read {url}: {exc}") from None
    jwks = document.get("jwks_uri") if isinstance(document, dict) else None
    if not isinstance(jwks, str):
        raise TokenError(f"{url} names no jwks_uri")
    return jwks


def oidc_verifier(settings: GatewaySettings) -> OidcVerifier:
    """The verifier the gateway's OIDC settings describe (`oidc_issuer` must be set)."""
    if not settings.oidc_issuer:
        raise ValueError("oidc_issuer is not set")
    return OidcVerifier(
        settings.oidc_issuer,
        settings.oidc_audience,
        settings.oidc_jwks_url,
        role_claim=settings.oidc_role_claim,
        role_map=settings.oidc_role_map or None,
        agency_claim=settings.oidc_agency_claim,
        pcc_claim=settings.oidc_pcc_claim,
        analyst_claim=settings.oidc_analyst_claim,
        jwks_cooldown=settings.oidc_jwks_cooldown,
    )
