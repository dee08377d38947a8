"""Alert rule configuration: loaded from `infra/alert_rules.toml` and validated as a whole."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.config_files import load_toml_model
from schemas.errors import ConfigurationError
from schemas.vocab import ImpactLevel, Vulnerability

RuleKind = Literal[
    "protection", "death", "smuggling_vehicle", "large_group", "surge", "secondary_movement"
]


class RuleConfig(BaseModel):
    """One alert rule with the parameters its kind uses."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    kind: RuleKind
    description: str
    severity: ImpactLevel
    enabled: bool = True
    merge_window_hours: float = Field(default=24, gt=0)
    vulnerabilities: list[Vulnerability] = Field(default_factory=list)
    always_for: list[str] = Field(default_factory=list)
    min_group_size: int = Field(default=30, ge=1)
    event_kinds: list[str] = Field(default_factory=lambda: ["apprehension"])
    window_hours: float = Field(default=6, gt=0)
    baseline_days: float = Field(default=7, gt=0)
    multiplier: float = Field(default=3.0, gt=0)
    min_count: int = Field(default=10, ge=1)

    @model_validator(mode="after")
    def _protection_needs_flags(self) -> RuleConfig:
        if self.kind == "protection" and not (self.vulnerabilities or self.always_for):
            raise ValueError("a protection rule needs vulnerabilities or always_for")
        return self


class _RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[RuleConfig]


def load_rules(path: Path) -> list[RuleConfig]:
    """Enabled rules of a rules file; errors name the file and the rule."""
    parsed = load_toml_model(path, _RulesFile, "alert rules file")
    ids = [r.id for r in parsed.rules]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigurationError(f"{path}: rule id(s) declared twice: {', '.join(dupes)}")
    return [r for r in parsed.rules if r.enabled]
