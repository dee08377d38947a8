"""`wbx keys`: create, list, rotate and revoke agency signing keys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from cryptography.hazmat.primitives import serialization

from schemas.envelope import agency_of, source_of
from schemas.errors import WbxError
from schemas.keys import KeyEntry, KeyRegistry, new_key_pair, write_private_key
from schemas.settings import ContractSettings

_registry_option = click.option(
    "--registry",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Key registry file (default: WBX_KEY_REGISTRY or infra/keys.json).",
)


@click.group("keys")
def command() -> None:
    """Manage agency signing keys and the public key registry."""


@command.command("new")
@click.option("--agency", required=True, help="Agency id, e.g. RS-BP.")
@_registry_option
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Private key file (default: <WBX_PRIVATE_KEY_DIR>/<kid>.pem, mode 0600).",
)
@click.option("--rotate", is_flag=True, help="Retire the agency's current keys from now on.")
@click.option("--print-private", is_flag=True, help="Also print the private key PEM.")
def new_key(
    agency: str, registry: Path | None, out: Path | None, rotate: bool, print_private: bool
) -> None:
    """Make an Ed25519 key pair and register its public half."""
    settings = ContractSettings()
    path = registry or settings.key_registry
    try:
        agency_of(source_of(agency))
        keys = KeyRegistry.load(path)
        private, entry = new_key_pair(agency)
        retired = []
        if rotate:
            for old in keys.active_keys(agency, entry.valid_from):
                keys.retire(old.kid, entry.valid_from)
                retired.append(old.kid)
        key_file = out or settings.private_key_dir / f"{entry.kid}.pem"
        write_private_key(private, key_file)
        keys.add(entry)
        keys.save(path)
    except (WbxError, ValueError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"key id:      {entry.kid}")
    click.echo(f"agency:      {entry.agency}")
    click.echo(f"private key: {key_file} (mode 0600; keep it secret)")
    click.echo(f"registry:    {path}")
    for kid in retired:
        click.echo(f"retired:     {kid} (still verifies events dated before now)")
    if print_private:
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        click.echo(pem.decode("ascii"), nl=False)


def _change_key(registry: Path | None, change: Callable[[KeyRegistry], KeyEntry]) -> KeyEntry:
    """Apply one change to the registry file and save it; errors become CLI errors."""
    path = registry or ContractSettings().key_registry
    try:
        keys = KeyRegistry.load(path)
        entry = change(keys)
        keys.save(path)
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    return entry


@command.command("revoke")
@click.argument("kid")
@_registry_option
def revoke_key(kid: str, registry: Path | None) -> None:
    """Revoke a key: nothing it signed verifies any more (use after a compromise)."""
    entry = _change_key(registry, lambda keys: keys.revoke(kid))
    click.echo(f"revoked {entry.kid} of {entry.agency} at {entry.revoked_at}")


@command.command("retire")
@click.argument("kid")
@_registry_option
def retire_key(kid: str, registry: Path | None) -> None:
    """End a key's validity now: it still verifies events dated before now."""
    entry = _change_key(registry, lambda keys: keys.retire(kid))
    click.echo(f"retired {entry.kid} of {entry.agency} from {entry.valid_until}")


@command.command("list")
@_registry_option
def list_keys(registry: Path | None) -> None:
    """List the registered keys with their validity and status."""
    path = registry or ContractSettings().key_registry
    try:
        keys = KeyRegistry.load(path)
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    for e in keys.entries():
        status = "revoked" if e.revoked else "active" if e.valid_until is None else "retired"
        until = e.valid_until.isoformat() if e.valid_until else "-"
        click.echo(f"{e.kid}\t{e.agency}\t{status}\t{e.valid_from.isoformat()}\t{until}")
