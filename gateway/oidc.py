"""Access tokens from an agency's OpenID Connect provider (Keycloak, a national IdP).

The gateway trusts one configured issuer besides its own: a token whose `iss` is that
issuer is checked against the issuer's published keys (JWKS, fetched and cached by PyJWT's
`PyJWKClient`, refetched when a token names a key it has not seen, at most once per
`oidc_jwks_cooldown`, so key rotation needs no restart), its audience and expiry; its
claims then map to a WBX role and binding.

The web pages sign in through the same issuer with the authorisation-code flow and PKCE
(RFC 7636, S256) when a client id is configured: `PendingLogins` holds each started
sign-in (state, nonce, code verifier) until the browser comes back, once, within ten
minutes; `OidcWebSignIn` builds the authorisation URL and exchanges the code for tokens.
The ID token must carry the sign-in's nonce; the access token becomes the session's
principal exactly as it would at the API.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from pydantic import SecretStr

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
        self._configuration: dict[str, Any] | None = None

    def configuration(self) -> dict[str, Any]:
        """The issuer's OpenID configuration document (fetched once)."""
        if self._configuration is None:
            self._configuration = _discover(self.issuer)
        return self._configuration

    def endpoint(self, name: str) -> str:
        """One endpoint URL of the configuration document (`token_endpoint`, ...)."""
        url = self.configuration().get(name)
        if not isinstance(url, str):
            raise TokenError(f"{self.issuer}'s OpenID configuration names no {name}")
        return url

    def _keys(self) -> jwt.PyJWKClient:
        if self._client is None:
            url = self._jwks_url or self.endpoint("jwks_uri")
            self._client = jwt.PyJWKClient(
                url,
                cache_jwk_set=True,
                lifespan=300,
                timeout=5,
                cooldown_duration=self.jwks_cooldown,
            )
        return self._client

    def check(self, token: str) -> Principal:
        """The principal of a valid access token of this issuer; TokenError says why not."""
        return self.principal(self.claims(token, self.audience))

    def claims(self, token: str, audience: str) -> dict[str, Any]:
        """The claims of a valid token this issuer made for `audience` (the API's for an
        access token, the web client's for an ID token); TokenError says why not."""
        try:
            key = self._keys().get_signing_key_from_jwt(token)
        except jwt.PyJWKClientError as exc:
            raise TokenError(f"the token's key is not one of {self.issuer}'s: {exc}") from None
        except jwt.InvalidTokenError as exc:
            raise TokenError(f"the token is not valid: {exc}") from None
        return decode_token(token, key.key, ALGORITHMS, audience, self.issuer)

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
        name = claims.get("name") or claims.get("preferred_username")
        return Principal(
            subject=f"oidc:{claims['sub']}",
            role=role,
            expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=UTC),
            name=name if isinstance(name, str) else None,
            **bound,
        )


def _checked_url(url: str, what: str) -> str:
    """`url` when it is https (or a test's own 127.0.0.1); TokenError otherwise."""
    if not url.startswith("https://") and not url.startswith("http://127.0.0.1"):
        raise TokenError(f"the OIDC {what} {url} must be https")
    return url


def _discover(issuer: str) -> dict[str, Any]:
    """The issuer's OpenID configuration document."""
    url = _checked_url(issuer.rstrip("/") + "/.well-known/openid-configuration", "issuer")
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - https checked
            document = json.load(response)
    except (OSError, ValueError) as exc:
        raise TokenError(f"cannot read {url}: {exc}") from None
    if not isinstance(document, dict):
        raise TokenError(f"{url} is not an OpenID configuration document")
    return document


LOGIN_TTL = timedelta(minutes=10)
"""How long a started web sign-in waits for the browser to come back from the issuer."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def code_challenge(verifier: str) -> str:
    """The S256 PKCE challenge of a code verifier (RFC 7636, section 4.2)."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


@dataclass(frozen=True)
class PendingLogin:
    """One web sign-in between the redirect to the issuer and the browser's return."""

    state: str
    nonce: str
    verifier: str
    next: str
    started: datetime

    @property
    def challenge(self) -> str:
        """The PKCE challenge sent with the authorisation request."""
        return code_challenge(self.verifier)


class PendingLogins:
    """Started web sign-ins by state, each taken once within LOGIN_TTL.

    Bound: `capacity` waiting sign-ins; past it, the oldest are dropped (their browsers are
    told to start again).
    """

    def __init__(self, capacity: int = 1_000) -> None:
        self.capacity = capacity
        self._logins: OrderedDict[str, PendingLogin] = OrderedDict()

    def __len__(self) -> int:
        return len(self._logins)

    def start(self, next_page: str, now: datetime) -> PendingLogin:
        """A new sign-in with fresh state, nonce and code verifier (256 bits each)."""
        login = PendingLogin(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(48),  # 64 characters, within RFC 7636's 43-128
            next=next_page,
            started=now,
        )
        self._logins[login.state] = login
        while len(self._logins) > self.capacity:
            self._logins.popitem(last=False)
        return login

    def take(self, state: str, now: datetime) -> PendingLogin | None:
        """The sign-in of `state`, removed; None when unknown, taken or too old."""
        login = self._logins.pop(state, None)
        if login is None or now - login.started > LOGIN_TTL:
            return None
        return login


class OidcWebSignIn:
    """The web pages' client of the issuer: authorisation URL, code exchange (blocking I/O)."""

    def __init__(
        self,
        verifier: OidcVerifier,
        client_id: str,
        client_secret: SecretStr | None = None,
        scopes: str = "openid profile",
    ) -> None:
        self.verifier = verifier
        self.client_id = client_id
        self.client_secret = client_secret
        self.scopes = scopes if "openid" in scopes.split() else f"openid {scopes}"

    def authorization_url(self, login: PendingLogin, redirect_uri: str) -> str:
        """Where to send the browser to sign in at the issuer."""
        endpoint = _checked_url(
            self.verifier.endpoint("authorization_endpoint"), "authorization endpoint"
        )
        query = urllib.parse.urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": self.scopes,
                "state": login.state,
                "nonce": login.nonce,
                "code_challenge": login.challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    def exchange(self, code: str, login: PendingLogin, redirect_uri: str) -> Principal:
        """The principal of the tokens the issuer gives for `code`; TokenError says why not."""
        endpoint = _checked_url(self.verifier.endpoint("token_endpoint"), "token endpoint")
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.client_id,
            "code_verifier": login.verifier,
        }
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "Accept": "application/json"}  # fmt: skip
        if self.client_secret is not None:  # client_secret_basic (RFC 6749, section 2.3.1)
            pair = f"{urllib.parse.quote(self.client_id)}:" + urllib.parse.quote(
                self.client_secret.get_secret_value()
            )
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - https checked
            endpoint, urllib.parse.urlencode(form).encode(), headers, method="POST"
        )
        tokens = _json_answer(request)
        access, id_token = tokens.get("access_token"), tokens.get("id_token")
        if not isinstance(access, str) or not isinstance(id_token, str):
            raise TokenError("the issuer's answer lacks an access token or an ID token")
        identity = self.verifier.claims(id_token, self.client_id)
        if not secrets.compare_digest(str(identity.get("nonce", "")), login.nonce):
            raise TokenError("the ID token is not for this sign-in (nonce)")
        return self.verifier.check(access)


def _json_answer(request: urllib.request.Request) -> dict[str, Any]:
    """The JSON object an OAuth endpoint answers; its error, when it refuses, as TokenError."""
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            answer = json.load(response)
    except urllib.error.HTTPError as exc:
        try:
            body = json.load(exc)
        except ValueError:
            body = {}
        error = body.get("error", exc.code) if isinstance(body, dict) else exc.code
        detail = body.get("error_description", "") if isinstance(body, dict) else ""
        raise TokenError(f"the issuer refused the code: {error} {detail}".rstrip()) from None
    except (OSError, ValueError) as exc:
        raise TokenError(f"cannot reach the issuer's token endpoint: {exc}") from None
    if not isinstance(answer, dict):
        raise TokenError("the issuer's token endpoint answered no JSON object")
    return answer


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


def oidc_web_sign_in(settings: GatewaySettings, verifier: OidcVerifier) -> OidcWebSignIn | None:
    """The web pages' sign-in through the issuer, when a client id is configured."""
    if not settings.oidc_client_id:
        return None
    return OidcWebSignIn(
        verifier, settings.oidc_client_id, settings.oidc_client_secret, settings.oidc_scopes
    )
