"""Access tokens of a configured OpenID Connect issuer: accepted with the mapped role,
refused from another issuer, audience or key; keys rotate without a restart."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.auth import Role, TokenAuthority, TokenError
from gateway.oidc import OidcVerifier, oidc_verifier
from gateway.settings import GatewaySettings
from tests.oidc_provider import AUDIENCE, TestProvider


@pytest.fixture
def idp() -> Iterator[TestProvider]:
    provider = TestProvider()
    yield provider
    provider.stop()


@pytest.fixture
def authority(idp: TestProvider, tmp_path) -> TokenAuthority:
    settings = GatewaySettings(
        token_key_file=tmp_path / "token.pem",
        audit_key_file=tmp_path / "audit-key.pem",
        oidc_issuer=idp.url,
        oidc_audience=AUDIENCE,
        oidc_role_claim="realm_access.roles",
        oidc_role_map={"wbx-analysts": "analyst", "pcc-officers": "pcc_operator"},
        oidc_jwks_cooldown=0,  # a rotated key is fetched at once
    )
    authority = TokenAuthority.from_file(settings.token_key_file, settings.issuer, AUDIENCE)
    authority.oidc = oidc_verifier(settings)  # JWKS found through the issuer's discovery
    return authority


def test_a_token_of_the_issuer_is_accepted_with_the_mapped_role_and_binding(idp, authority):
    token = idp.token("k1", realm_access={"roles": ["offline", "pcc-officers"]},
                      wbx_pcc="pcc-plav")  # fmt: skip
    principal = authority.check(token)
    assert (principal.role, principal.pcc, principal.subject) == (
        Role.PCC_OPERATOR,
        "pcc-plav",
        "oidc:user-1",
    )
    analyst = authority.check(
        idp.token("k1", realm_access={"roles": ["wbx-analysts"]}, preferred_username="ana")
    )
    assert (analyst.role, analyst.analyst) == (Role.ANALYST, "ana")


def test_our_own_tokens_still_work_next_to_the_issuers(authority):
    own = authority.issue(Role.ANALYST, analyst="unit-7")
    assert authority.check(own).analyst == "unit-7"


def test_a_token_from_another_issuer_is_refused(idp, authority):
    token = idp.token("k1", issuer="https://evil.example/realms/wbx",
                      realm_access={"roles": ["wbx-analysts"]}, preferred_username="x")  # fmt: skip
    with pytest.raises(TokenError, match="not valid"):
        authority.check(token)


def test_a_token_for_another_audience_is_refused(idp, authority):
    token = idp.token("k1", aud="another-app", realm_access={"roles": ["wbx-analysts"]},
                      preferred_username="x")  # fmt: skip
    with pytest.raises(TokenError, match="Audience"):
        authority.check(token)


def test_a_token_signed_with_a_key_the_issuer_does_not_publish_is_refused(idp, authority):
    idp.add_key("rogue", publish=False)
    token = idp.token("rogue", realm_access={"roles": ["wbx-analysts"]}, preferred_username="x")
    with pytest.raises(TokenError, match="key is not one of"):
        authority.check(token)


def test_a_rotated_key_is_fetched_without_a_restart(idp, authority):
    first = idp.token("k1", realm_access={"roles": ["wbx-analysts"]}, preferred_username="a")
    assert authority.check(first).role is Role.ANALYST  # JWKS now cached with k1 only
    idp.add_key("k2")
    second = idp.token("k2", realm_access={"roles": ["wbx-analysts"]}, preferred_username="a")
    assert authority.check(second).role is Role.ANALYST


def test_claims_that_map_to_no_role_or_lack_the_binding_are_refused(idp, authority):
    with pytest.raises(TokenError, match="maps to no WBX role"):
        authority.check(idp.token("k1", realm_access={"roles": ["admins-of-something"]}))
    with pytest.raises(TokenError, match="needs the claim 'wbx_pcc'"):
        authority.check(idp.token("k1", realm_access={"roles": ["pcc-officers"]}))


def test_without_a_map_the_role_claim_names_wbx_roles():
    verifier = OidcVerifier("https://idp.example", AUDIENCE, "https://idp.example/certs")
    claims = {"sub": "s", "exp": 2_000_000_000, "wbx_role": "publisher", "wbx_agency": "RS-BP"}
    principal = verifier.principal(claims)
    assert (principal.role, principal.agency) == (Role.PUBLISHER, "RS-BP")
