"""How every `wbx` process logs: readable lines, or JSON lines a log pipeline can index.

`WBX_LOG_FORMAT=json` writes one JSON object per line with the time (UTC), level, logger
and message, plus `event_id`, `source`, `stage` and `topic` when the code logging it names
them (`extra={...}`), so one event can be followed across the gateway and both hops.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

CONTEXT = ("event_id", "source", "stage", "topic")
"""The `extra` fields carried into JSON lines when a log call gives them."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class LogSettings(BaseSettings):
    """Logging of every `wbx` command and service."""

    model_config = SettingsConfigDict(env_prefix="WBX_LOG_", extra="ignore")

    format: Literal["text", "json"] = "text"


class JsonLines(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line, with the event context it carries."""
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: int, settings: LogSettings | None = None) -> None:
    """Set the root logger's level and format (text or JSON lines) for this process."""
    settings = settings or LogSettings()
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonLines() if settings.format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    logging.basicConfig(level=level, handlers=[handler], force=True)
