"""Bearer tokens: issue, check, and every way a token is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.auth import ForbiddenError, Role, TokenAuthority, TokenError


@pytest.fixture
def authority() -> TokenAuthority:
    return TokenAuthority(Ed25519PrivateKey.generate(), "urn:wbx:gateway", "urn:wbx")


def test_token_round_trip_keeps_role_and_binding(authority):
    principal = authority.check(authority.issue(Role.PCC_OPERATOR, pcc="pcc-plav"))
    assert (principal.role, principal.pcc, principal.agency) == (
        Role.PCC_OPERATOR,
        "pcc-plav",
        None,
    )
    assert principal.subject == "pcc_operator:pcc-plav"


@pytest.mark.parametrize("role", [Role.PUBLISHER, Role.PCC_OPERATOR, Role.ANALYST])
def test_bound_roles_need_their_binding(authority, role):
    with pytest.raises(ForbiddenError):
        authority.issue(role)


def test_expired_token_is_refused(authority):
    token = authority.issue(
        Role.ADMIN, ttl=timedelta(minutes=1), now=datetime.now(UTC) - timedelta(hours=1)
    )
    with pytest.raises(TokenError, match="expired"):
        authority.check(token)


def test_token_of_another_key_is_refused(authority):
    other = TokenAuthority(Ed25519PrivateKey.generate(), "urn:wbx:gateway", "urn:wbx")
    with pytest.raises(TokenError):
        authority.check(other.issue(Role.ADMIN))


def test_token_for_another_audience_is_refused(authority):
    other = TokenAuthority(authority._private, "urn:wbx:gateway", "urn:elsewhere")
    with pytest.raises(TokenError):
        authority.check(other.issue(Role.ADMIN))


def test_unsigned_and_hmac_tokens_are_refused(authority):
    claims = {
        "iss": "urn:wbx:gateway",
        "aud": "urn:wbx",
        "sub": "x",
        "role": "admin",
        "iat": 0,
        "exp": 2_000_000_000,
    }
    for token in (
        jwt.encode(claims, None, algorithm="none"),
        jwt.encode(claims, "secret-secret-secret-secret-32b!", algorithm="HS256"),
    ):
        with pytest.raises(TokenError):
            authority.check(token)


def test_unknown_role_is_refused(authority):
    claims = {
        "iss": "urn:wbx:gateway",
        "aud": "urn:wbx",
        "sub": "x",
        "role": "root",
        "iat": 0,
        "exp": 2_000_000_000,
    }
    with pytest.raises(TokenError, match="role"):
        authority.check(jwt.encode(claims, authority._private, algorithm="EdDSA"))


def test_key_file_is_created_once_and_reused(tmp_path):
    path = tmp_path / "key.pem"
    first = TokenAuthority.from_file(path, "i", "a")
    second = TokenAuthority.from_file(path, "i", "a")
    assert second.check(first.issue(Role.ADMIN)).role is Role.ADMIN
