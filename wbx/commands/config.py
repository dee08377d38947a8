"""`wbx config show`: the effective configuration of every component, secrets masked."""

from __future__ import annotations

from typing import Any

import click
from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings

MASK = "******** (set)"


def _components() -> dict[str, type[BaseSettings]]:
    from consumers.settings import WorkerSettings
    from gateway.settings import GatewaySettings
    from producers.settings import PublisherSettings
    from schemas.settings import ContractSettings, KafkaSettings
    from wbx.logs import LogSettings

    return {
        "contract": ContractSettings,
        "kafka": KafkaSettings,
        "worker": WorkerSettings,
        "gateway": GatewaySettings,
        "publisher": PublisherSettings,
        "log": LogSettings,
    }


def _shown(value: Any, wire: Any) -> str:
    """A setting's value as printed: secrets masked whatever they hold, the rest as the
    environment variable would spell it (durations in ISO 8601, e.g. P31D)."""
    if isinstance(value, SecretStr):
        return MASK
    if value is None:
        return "(unset)"
    return str(wire)


def settings_lines(name: str, model: type[BaseSettings]) -> list[str]:
    """`WBX_...=value` lines of one component as the environment configures it now."""
    prefix = str(model.model_config.get("env_prefix", ""))
    try:
        settings = model()
    except ValidationError as exc:
        problems = "; ".join(
            (f"{prefix}{'_'.join(str(p) for p in e['loc']).upper()}: " if e["loc"] else "")
            + e["msg"]
            for e in exc.errors()
        )
        raise click.ClickException(f"{name}: {problems}") from None
    wire = settings.model_dump(mode="json")
    return [
        f"{prefix}{field.upper()}={_shown(getattr(settings, field), wire[field])}"
        for field in type(settings).model_fields
    ]


@click.group("config")
def command() -> None:
    """Inspect the configuration WBX reads from WBX_* environment variables."""


@command.command("show")
@click.argument("components", nargs=-1)
def show(components: tuple[str, ...]) -> None:
    """Print each component's effective settings (all of them by default); secrets are
    masked. COMPONENTS: contract, kafka, worker, gateway, publisher, log."""
    known = _components()
    unknown = [c for c in components if c not in known]
    if unknown:
        raise click.BadParameter(
            f"{', '.join(unknown)}: not a component (one of {', '.join(known)})",
            param_hint="COMPONENTS",
        )
    for name in components or tuple(known):
        lines = settings_lines(name, known[name])
        click.echo(f"[{name}]")
        for line in lines:
            click.echo(line)
