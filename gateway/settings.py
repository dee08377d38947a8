"""Settings of the HTTP gateway (env prefix WBX_GATEWAY_)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from producers.settings import PublisherSettings


class GatewaySettings(BaseSettings):
    """How the gateway listens, authenticates and keeps its views."""

    model_config = SettingsConfigDict(env_prefix="WBX_GATEWAY_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    token_key_file: Path = Field(
        default=Path("var/gateway/token-key.pem"),
        description="Ed25519 private key that signs bearer tokens (created on first use)",
    )
    issuer: str = "urn:wbx:gateway"
    audience: str = "urn:wbx"
    oidc_issuer: str | None = Field(
        default=None, description="an OpenID Connect issuer whose access tokens are trusted too"
    )
    oidc_audience: str = Field(default="wbx", description="the audience its tokens must name")
    oidc_jwks_url: str | None = Field(
        default=None, description="its JWKS; unset = from its OpenID configuration document"
    )
    oidc_role_claim: str = Field(
        default="wbx_role",
        description="claim (dotted path) naming the role, e.g. realm_access.roles",
    )
    oidc_role_map: dict[str, str] = Field(
        default_factory=dict,
        description='IdP role -> WBX role as JSON, e.g. {"wbx-analysts": "analyst"}; '
        "empty = the WBX role names",
    )
    oidc_agency_claim: str = "wbx_agency"
    oidc_pcc_claim: str = "wbx_pcc"
    oidc_analyst_claim: str = "preferred_username"
    oidc_jwks_cooldown: float = Field(
        default=30.0,
        ge=0,
        description="seconds between refetches of the JWKS for unknown key ids (rotation)",
    )
    oidc_client_id: str | None = Field(
        default=None,
        description="the web pages' client at the issuer; set = the sign-in page offers the "
        "issuer's sign-in (authorisation code with PKCE)",
    )
    oidc_client_secret: SecretStr | None = Field(
        default=None, description="for a confidential client; unset for a public one"
    )
    oidc_scopes: str = Field(default="openid profile", description="scopes the pages ask for")
    oidc_redirect_url: str | None = Field(
        default=None,
        description="the callback URL registered at the issuer; unset = this gateway's own "
        "/sign-in/oidc/callback as the browser reached it (set it behind a proxy)",
    )
    oidc_provider_name: str = Field(
        default="", description="the name on the sign-in button; empty = the issuer's host"
    )
    audit_key_file: Path = Field(
        default=Path("var/gateway/audit-key.pem"),
        description="Ed25519 key that signs this gateway's audit chain (created on first "
        "use); its public half belongs in WBX_AUDIT_PUBLIC_KEYS",
    )
    audit_checkpoint_interval: float = Field(
        default=60.0, gt=0, description="seconds between checkpoints of the audit chain"
    )
    audit_pending: int = Field(
        default=10_000,
        gt=0,
        description="audit records kept while Kafka is away (about 1 KB each); then the "
        "actions that need one are refused",
    )
    keep_alive: int = Field(
        default=75,
        gt=0,
        description="seconds an idle HTTP connection stays open; longer than the idle timeout "
        "of the proxy or client in front (60 s on common load balancers, 5 s in httpx), so "
        "the gateway never closes a connection just as the other side reuses it",
    )
    token_default_ttl: timedelta = timedelta(hours=12)
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    max_events_per_request: int = Field(default=500, gt=0)
    escalate_high_after: timedelta = timedelta(minutes=10)
    escalate_critical_after: timedelta = timedelta(minutes=2)
    escalation_check_interval: float = Field(default=1.0, gt=0)
    alerts_per_pcc: int = Field(default=10_000, gt=0, description="bounded in-memory view")
    receipts_per_agency: int = Field(
        default=5_000,
        gt=0,
        description="receipts kept in memory per agency for GET /v1/receipts (the oldest "
        "leave; about 1 KB each); the agency's topic keeps them all",
    )
    events_per_agency: int = Field(
        default=2_000,
        gt=0,
        description="verified events kept in memory per agency for its GET /v1/events (the "
        "oldest leave; about 2 KB each, personal data, dropped at the sender's deadline)",
    )
    stream_backlog: int = Field(default=5_000, gt=0, description="events kept for SSE resume")
    stat_cells: int = Field(
        default=1_000_000, gt=0, description="fine statistics cells kept (the oldest days leave)"
    )
    web_sessions: int = Field(default=10_000, gt=0, description="signed-in browsers kept")
    outbox_dir: Path = Path("var/gateway/outbox")
    outbox_max_events: int = Field(
        default=1_000_000, gt=0, description="accepted events waiting for Kafka (then 503)"
    )

    def forwarding(self) -> PublisherSettings:
        """How the gateway's outbox drains (the producers' library settings)."""
        return PublisherSettings(
            outbox_dir=self.outbox_dir, outbox_max_events=self.outbox_max_events
        )
