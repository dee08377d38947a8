"""Settings of a national publisher (env prefix WBX_PUBLISHER_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PublisherSettings(BaseSettings):
    """Where the store-and-forward outbox lives and how it drains."""

    model_config = SettingsConfigDict(env_prefix="WBX_PUBLISHER_", extra="ignore")

    outbox_dir: Path = Path("var/outbox")
    outbox_max_events: int = Field(default=1_000_000, gt=0)
    batch_size: int = Field(default=500, gt=0)
    retry_initial: float = Field(default=0.2, gt=0, description="first back-off, seconds")
    retry_max: float = Field(default=5.0, gt=0, description="longest back-off, seconds")
    request_timeout_ms: int = Field(default=10_000, gt=0)
