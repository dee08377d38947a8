"""The web pages' sign-in at the agencies' identity provider: authorisation code with PKCE
(S256), state bound to the browser, nonce in the ID token, each sign-in finished once."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from gateway.api.main import create_app
from gateway.oidc import LOGIN_TTL, PendingLogins, code_challenge
from gateway.settings import GatewaySettings
from schemas.keys import KeyRegistry
from schemas.settings import ContractSettings, KafkaSettings
from tests.factories import AgencyKey
from tests.gateway.conftest import RecordingService
from tests.oidc_provider import AUDIENCE, CLIENT_ID, TestProvider

GATEWAY = "http://127.0.0.1:8000"
OPERATOR = {"wbx_role": "pcc_operator", "wbx_pcc": "pcc-plav"}


@pytest.fixture
def provider() -> Iterator[TestProvider]:
    idp = TestProvider()
    idp.users = {
        "ana": {"wbx_role": "analyst", "preferred_username": "ana"},
        "petar": OPERATOR,
        "agency-bot": {"wbx_role": "publisher", "wbx_agency": "RS-BP"},
        "nobody": {},
    }
    yield idp
    idp.stop()


def _service(tmp_path: Path, key: AgencyKey, **oidc: object) -> RecordingService:
    KeyRegistry([key[1]]).save(tmp_path / "keys.json")
    service = RecordingService(
        GatewaySettings(
            token_key_file=tmp_path / "token.pem",
            audit_key_file=tmp_path / "audit-key.pem",
            outbox_dir=tmp_path / "outbox",
            **oidc,  # type: ignore[arg-type]
        ),
        KafkaSettings(bootstrap="127.0.0.1:1", idempotence=False),
        ContractSettings(key_registry=tmp_path / "keys.json"),
    )
    service.sent = []
    return service


@pytest.fixture
def oidc_service(tmp_path: Path, key: AgencyKey, provider: TestProvider) -> RecordingService:
    return _service(
        tmp_path, key, oidc_issuer=provider.url, oidc_audience=AUDIENCE, oidc_client_id=CLIENT_ID
    )


def _client(service: RecordingService) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(service, manage=False))
    return httpx.AsyncClient(transport=transport, base_url=GATEWAY)


@pytest_asyncio.fixture
async def browser(oidc_service: RecordingService) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(oidc_service) as client:
        yield client


async def _to_provider(browser: httpx.AsyncClient, next_page: str = "") -> str:
    """Press the sign-in button: the authorisation URL the gateway sends the browser to."""
    start = await browser.get("/sign-in/oidc", params={"next": next_page} if next_page else None)
    assert start.status_code == 303, start.text
    return start.headers["location"]


async def _at_provider(location: str, user: str) -> str:
    """Sign in at the provider as `user`: the callback URL it sends the browser back to."""
    async with httpx.AsyncClient() as client:
        answer = await client.get(location + f"&login_hint={user}")
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    return f"{back.path}?{back.query}"


async def _sign_in(browser: httpx.AsyncClient, user: str, next_page: str = "") -> httpx.Response:
    callback = await _at_provider(await _to_provider(browser, next_page), user)
    return await browser.get(callback)


def _continue_to(page: httpx.Response) -> str:
    found = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', page.text)
    assert found, "the signed-in page does not move on"
    return found.group(1)


async def test_the_sign_in_page_offers_the_provider_only_when_a_client_is_configured(
    tmp_path: Path, key: AgencyKey, provider: TestProvider, browser: httpx.AsyncClient
):
    page = await browser.get("/sign-in", params={"next": "/dashboard"})
    button = re.search(r'<a class="button" id="oidc-sign-in" href="([^"]+)">([^<]+)</a>', page.text)
    assert button and button.group(2) == "Sign in with 127.0.0.1"
    assert button.group(1) == "/sign-in/oidc?next=/dashboard"
    named = _service(tmp_path / "named", key, oidc_issuer=provider.url, oidc_client_id=CLIENT_ID,
                     oidc_provider_name="e-Identity RS")  # fmt: skip
    async with _client(named) as other:
        assert "Sign in with e-Identity RS" in (await other.get("/sign-in")).text
    api_only = _service(tmp_path / "api", key, oidc_issuer=provider.url)  # no client id
    async with _client(api_only) as other:
        assert 'id="oidc-sign-in"' not in (await other.get("/sign-in")).text
        refused = await other.get("/sign-in/oidc")
        assert refused.status_code == 404 and "not set up" in refused.text


async def test_an_operator_signs_in_with_pkce_and_reaches_the_console(
    browser: httpx.AsyncClient, provider: TestProvider
):
    location = await _to_provider(browser)
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert location.startswith(f"{provider.url}/auth?")
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["code_challenge_method"] == "S256" and "openid" in query["scope"].split()
    assert query["redirect_uri"] == f"{GATEWAY}/sign-in/oidc/callback"
    assert query["nonce"] and browser.cookies.get("wbx_oidc") == query["state"]
    landed = await browser.get(await _at_provider(location, "petar"))
    assert landed.status_code == 200 and _continue_to(landed) == "/console"
    (sent,) = provider.token_requests
    # The verifier reached only the provider's token endpoint, and matches the challenge.
    assert code_challenge(sent["code_verifier"]) == query["code_challenge"]
    assert sent["code_verifier"] not in location
    console = await browser.get("/console")
    assert console.status_code == 200 and "PCC Plav" in console.text
    assert "wbx_oidc" not in browser.cookies  # the sign-in is over


async def test_the_page_asked_for_is_followed_only_within_the_role(browser: httpx.AsyncClient):
    landed = await _sign_in(browser, "ana", next_page="/dashboard?measure=detections")
    assert _continue_to(landed) == "/dashboard?measure=detections"
    browser.cookies.clear()
    landed = await _sign_in(browser, "ana", next_page="https://evil.example/dashboard")
    assert _continue_to(landed) == "/dashboard"


async def test_a_sign_in_finished_in_another_browser_is_refused(
    oidc_service: RecordingService, browser: httpx.AsyncClient
):
    callback = await _at_provider(await _to_provider(browser), "petar")
    async with _client(oidc_service) as attacker_victim:  # no wbx_oidc cookie of its own
        refused = await attacker_victim.get(callback)
        assert refused.status_code == 403 and "another browser" in refused.text
        assert (await attacker_victim.get("/console")).status_code == 303
    # The browser that started it still finishes it: the refusal took nothing from it.
    assert (await browser.get(callback)).status_code == 200


async def test_each_sign_in_finishes_once(browser: httpx.AsyncClient):
    callback = await _at_provider(await _to_provider(browser), "petar")
    assert (await browser.get(callback)).status_code == 200
    again = await browser.get(callback)
    assert again.status_code == 403 and "expired" in again.text


async def test_the_providers_refusal_and_an_unusable_answer_are_explained(
    browser: httpx.AsyncClient, provider: TestProvider
):
    denied = await _sign_in(browser, "mallory")  # the provider answers error=access_denied
    assert denied.status_code == 401 and "did not sign you in" in denied.text
    provider.nonce_override = "a-nonce-of-another-sign-in"  # a replayed ID token
    replayed = await _sign_in(browser, "petar")
    assert replayed.status_code == 401 and "could not be accepted" in replayed.text
    provider.nonce_override = None
    roleless = await _sign_in(browser, "nobody")
    assert roleless.status_code == 401 and "could not be accepted" in roleless.text
    publisher = await _sign_in(browser, "agency-bot")
    assert publisher.status_code == 403 and "not a PCC operator" in publisher.text
    assert (await browser.get("/console")).status_code == 303  # never signed in


async def test_a_confidential_client_authenticates_with_its_secret(
    tmp_path: Path, key: AgencyKey, provider: TestProvider
):
    provider.client_secret = "s3cret"  # pragma: allowlist secret
    for secret, status in (("s3cret", 200), ("wrong", 401)):
        oidc = {"oidc_client_id": CLIENT_ID, "oidc_client_secret": SecretStr(secret)}
        service = _service(tmp_path / secret, key, oidc_issuer=provider.url, **oidc)
        async with _client(service) as browser:
            assert (await _sign_in(browser, "ana")).status_code == status


async def test_an_unreachable_provider_is_explained_at_the_start(tmp_path: Path, key: AgencyKey):
    service = _service(tmp_path, key, oidc_issuer="http://127.0.0.1:1/realms/none",
                       oidc_client_id=CLIENT_ID)  # fmt: skip
    async with _client(service) as browser:
        page = await browser.get("/sign-in/oidc")
    assert page.status_code == 502 and "cannot be reached" in page.text


def test_pending_sign_ins_are_taken_once_expire_and_stay_bounded():
    now = datetime.now(UTC)
    logins = PendingLogins(capacity=3)
    first = logins.start("/console", now)
    assert 43 <= len(first.verifier) <= 128 and first.challenge == code_challenge(first.verifier)
    assert logins.take(first.state, now) == first and logins.take(first.state, now) is None
    late = logins.start("", now)
    assert logins.take(late.state, now + LOGIN_TTL + timedelta(seconds=1)) is None
    started = [logins.start("", now) for _ in range(5)]
    assert len(logins) == 3 and logins.take(started[0].state, now) is None
    assert logins.take(started[-1].state, now) == started[-1]
