"""`wbx deploy secrets`: the certificates and passwords the compose deployment mounts."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import click

from schemas.errors import WbxError
from wbx.topics import reference_and_plan

DEFAULT_DIR = Path("infra/deploy/compose/secrets")


@click.group("deploy")
def command() -> None:
    """Prepare a deployment on Apache Kafka (infra/deploy/)."""


@command.command("secrets")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DIR,
    show_default=True,
    help="Where to write them; the compose file expects the default.",
)
@click.option(
    "--force", is_flag=True, help="Replace existing secrets (every client needs the new ones)."
)
def secrets_command(directory: Path, force: bool) -> None:
    """Write a CA, the brokers' certificates and a SCRAM password per principal."""
    from wbx.deploy import deployment_secrets
    from wbx.render import acls

    if directory.exists() and any(directory.iterdir()) and not force:
        raise click.ClickException(
            f"{directory} already holds secrets; --force replaces them, and then every "
            "broker, WBX container and agency must get the new ones"
        )
    try:
        reference, specs = reference_and_plan()
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    rules = acls(specs, sorted(reference.agencies), sorted(reference.pccs))
    principals = sorted({rule.principal for rule in rules})
    files = deployment_secrets(principals, datetime.now(UTC))
    # The top directory keeps other host users out; the subdirectories are bind-mounted, and
    # the containers' own users (not root) must read them.
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    for secret in files:
        path = directory / secret.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(secret.content)
        os.chmod(path, 0o600 if secret.path.startswith("ca/") else 0o644)
    click.echo(f"wrote {len(files)} files to {directory}: a CA, {len(principals) + 1} SCRAM users")
    click.echo(f"  agencies' publisher passwords: {directory}/kafka/scram/wbx-publisher-<agency>")
    click.echo(f"  the CA to hand them: {directory}/wbx/ca.crt")
