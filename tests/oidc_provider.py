"""A test OpenID Connect provider on a local port, for the gateway's OIDC tests.

It publishes its configuration and JWKS, signs access and ID tokens, and runs the
authorisation-code flow with PKCE as a strict provider would: S256 only, each code once,
for the client, redirect URI and code verifier it was issued for. Its sign-in page lists
the test users as buttons; `login_hint=<user>` signs in without the page.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

AUDIENCE = "wbx"
CLIENT_ID = "wbx-web"


@dataclass
class Grant:
    """What a code was issued for."""

    user: str
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str


@dataclass
class TestProvider:
    """The provider; `users` maps a login name to the extra claims of its access token."""

    __test__ = False  # not a test class, whatever pytest thinks of its name

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)
    published: list[str] = field(default_factory=list)
    grants: dict[str, Grant] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    client_secret: str | None = None
    nonce_override: str | None = None
    """An ID token nonce to send instead of the sign-in's (a replayed ID token)."""

    def __post_init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}/realms/wbx"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.add_key("k1")

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

    def add_key(self, kid: str, publish: bool = True) -> None:
        """A new RSA signing key, published in the JWKS unless told otherwise."""
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if publish:
            self.published.append(kid)

    def token(
        self, kid: str = "k1", issuer: str | None = None, audience: str = AUDIENCE, **claims: Any
    ) -> str:
        """A signed token of this provider (or claiming another `issuer`)."""
        now = int(time.time())
        body = {"iss": issuer or self.url, "aud": audience, "sub": "user-1", "iat": now,
                "exp": now + 300, **claims}  # fmt: skip
        return jwt.encode(body, self.keys[kid], algorithm="RS256", headers={"kid": kid})

    def _jwks(self) -> dict[str, Any]:
        keys = []
        for kid in self.published:
            public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.keys[kid].public_key()))
            keys.append({**public, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": keys}

    def _configuration(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "jwks_uri": f"{self.url}/certs",
            "authorization_endpoint": f"{self.url}/auth",
            "token_endpoint": f"{self.url}/token",
            "code_challenge_methods_supported": ["S256"],
        }

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """The authorisation endpoint: a redirect back with a code or an error, or the page."""
        redirect = query.get("redirect_uri", "")

        def back(**params: str) -> tuple[int, dict[str, str], bytes]:
            params["state"] = query.get("state", "")
            return 302, {"Location": f"{redirect}?{urlencode(params)}"}, b""

        local = redirect.startswith(("http://127.0.0.1:", "http://localhost:"))
        if query.get("client_id") != CLIENT_ID or not local:
            return 400, {"Content-Type": "text/plain"}, b"unknown client or redirect URI"
        if query.get("response_type") != "code" or "openid" not in query.get("scope", "").split():
            return back(error="invalid_request")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return back(error="invalid_request", error_description="PKCE S256 required")
        user = query.get("login_hint")
        if user is None:
            return 200, {"Content-Type": "text/html; charset=utf-8"}, self._page(query)
        if user not in self.users:
            return back(error="access_denied")
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(
            user, CLIENT_ID, redirect, query["code_challenge"], query.get("nonce", "")
        )
        return back(code=code)

    def _page(self, query: dict[str, str]) -> bytes:
        buttons = "".join(
            f'<button name="login_hint" value="{html.escape(user)}">'
            f"Sign in as {html.escape(user)}</button>"
            for user in self.users
        )
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in query.items()
        )
        return (
            "<!doctype html><title>Test identity provider</title><h1>Test identity provider"
            f'</h1><form method="get" action="{self.url}/auth">{hidden}{buttons}</form>'
        ).encode()

    def exchange(self, form: dict[str, str], authorization: str | None) -> tuple[int, Any]:
        """The token endpoint: tokens for a good code and verifier, an OAuth error otherwise."""
        self.token_requests.append(form)
        if self.client_secret is not None:
            expected = base64.b64encode(f"{CLIENT_ID}:{self.client_secret}".encode()).decode()
            if authorization != f"Basic {expected}":
                return 401, {"error": "invalid_client"}
        grant = self.grants.pop(form.get("code", ""), None)  # once, whatever happens
        if form.get("grant_type") != "authorization_code" or grant is None:
            return 400, {"error": "invalid_grant", "error_description": "unknown or used code"}
        if (
            form.get("client_id") != grant.client_id
            or form.get("redirect_uri") != grant.redirect_uri
        ):
            return 400, {"error": "invalid_grant", "error_description": "client or redirect"}
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.challenge:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        claims = self.users[grant.user]
        nonce = self.nonce_override or grant.nonce
        return 200, {
            "token_type": "Bearer",
            "expires_in": 300,
            "access_token": self.token(sub=grant.user, **claims),
            "id_token": self.token(audience=CLIENT_ID, sub=grant.user, nonce=nonce),
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, body: Any) -> None:
                self._send(status, {"Content-Type": "application/json"}, json.dumps(body).encode())

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path.endswith("/.well-known/openid-configuration"):
                    self._json(200, provider._configuration())
                elif url.path.endswith("/certs"):
                    self._json(200, provider._jwks())
                elif url.path.endswith("/auth"):
                    self._send(*provider.authorize(query))
                else:
                    self._json(404, {"error": "not found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlsplit(self.path).path.endswith("/token"):
                    self._json(*provider.exchange(form, self.headers.get("Authorization")))
                else:
                    self._json(404, {"error": "not found"})

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        return Handler
