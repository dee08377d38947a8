"""`wbx keys`: agency signing keys on the live registry (`wbx.keys.v1`) or an offline file.

Every change is signed by the registry key the operators hold; workers and gateways apply it
within seconds, without a restart. Private keys go to WBX_PRIVATE_KEY_DIR (`~/.wbx/keys`),
never into the repository.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import click
from cryptography.hazmat.primitives import serialization

from schemas.envelope import agency_of, source_of
from schemas.errors import WbxError
from schemas.keys import KeyEntry, new_key_pair, write_private_key
from schemas.registry_log import KeyChange, Outcome, read_change, sign_change
from schemas.settings import ContractSettings, KafkaSettings
from wbx.commands import _registry

_log_option = click.option(
    "--file",
    "log_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Work offline on this file of signed changes instead of the topic "
    "(default: WBX_REGISTRY_LOG, else the wbx.keys.v1 topic).",
)


def _settings(log_file: Path | None) -> tuple[ContractSettings, KafkaSettings]:
    contract = ContractSettings()
    if log_file is not None:
        contract = contract.model_copy(update={"registry_log": log_file})
    return contract, KafkaSettings()


@click.group("keys")
def command() -> None:
    """Manage agency signing keys on the live key registry."""


@command.command("init-registry")
def init_registry() -> None:
    """Create the registry key that signs key changes (once, by the operators)."""
    contract = ContractSettings()
    path = contract.registry_private_key
    existed = path.exists()
    try:
        private = _registry.load_or_create_signing_key(path)
    except (WbxError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"registry key: {path} ({'existing' if existed else 'new'}, mode 0600)")
    click.echo("give every worker and gateway its public half:")
    click.echo(f"WBX_REGISTRY_PUBLIC_KEY={_registry.public_text(private)}")


@command.command("new")
@click.option("--agency", required=True, help="Agency id, e.g. RS-BP.")
@_log_option
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Private key file (default: <WBX_PRIVATE_KEY_DIR>/<kid>.pem, mode 0600).",
)
@click.option("--rotate", is_flag=True, help="Retire the agency's current keys from now on.")
@click.option("--print-private", is_flag=True, help="Also print the private key PEM.")
def new_key(
    agency: str, log_file: Path | None, out: Path | None, rotate: bool, print_private: bool
) -> None:
    """Make an Ed25519 key pair and register its public half."""
    contract, kafka = _settings(log_file)
    try:
        agency_of(source_of(agency))
        signer = _registry.signing_key(contract)
        private, entry = new_key_pair(agency)
        records = [sign_change("add", entry, signer)]
        retired = []
        if rotate:
            keys = _registry.current(contract, kafka).registry
            for old in keys.active_keys(agency, entry.valid_from):
                ended = old.model_copy(update={"valid_until": entry.valid_from})
                records.append(sign_change("retire", ended, signer))
                retired.append(old.kid)
        key_file = out or contract.private_key_dir / f"{entry.kid}.pem"
        write_private_key(private, key_file)
        where = _registry.write(records, contract, kafka)
    except (WbxError, ValueError, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"key id:      {entry.kid}")
    click.echo(f"agency:      {entry.agency}")
    click.echo(f"private key: {key_file} (mode 0600; keep it secret)")
    click.echo(f"registered:  {where}")
    for kid in retired:
        click.echo(f"retired:     {kid} (still verifies what was received before now)")
    if print_private:
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        click.echo(pem.decode("ascii"), nl=False)


def _change(
    log_file: Path | None, kid: str, change: str, update: Callable[[KeyEntry], KeyEntry]
) -> tuple[KeyEntry, str]:
    """Sign one change of a registered key and write it; errors become CLI errors."""
    contract, kafka = _settings(log_file)
    try:
        signer = _registry.signing_key(contract)
        entry = _registry.current(contract, kafka).registry.get(kid)
        if entry is None:
            raise click.ClickException(f"key {kid} is not registered (see `wbx keys list`)")
        changed = update(entry)
        where = _registry.write(
            [sign_change(change, changed, signer)],  # type: ignore[arg-type]
            contract,
            kafka,
        )
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    return changed, where


@command.command("revoke")
@click.argument("kid")
@_log_option
def revoke_key(kid: str, log_file: Path | None) -> None:
    """Revoke a key now: nothing received from now on verifies (use after a compromise)."""
    now = datetime.now(UTC)
    revoked = {"revoked": True, "revoked_at": now}
    entry, where = _change(log_file, kid, "revoke", lambda e: e.model_copy(update=revoked))
    click.echo(f"revoked {entry.kid} of {entry.agency} at {entry.revoked_at} ({where})")


@command.command("retire")
@click.argument("kid")
@_log_option
def retire_key(kid: str, log_file: Path | None) -> None:
    """End a key's validity now: what was received before still verifies."""
    now = datetime.now(UTC)
    entry, where = _change(
        log_file, kid, "retire", lambda e: e.model_copy(update={"valid_until": now})
    )
    click.echo(f"retired {entry.kid} of {entry.agency} from {entry.valid_until} ({where})")


@command.command("list")
@_log_option
def list_keys(log_file: Path | None) -> None:
    """List the registered keys with their validity and status."""
    contract, kafka = _settings(log_file)
    try:
        keys = _registry.current(contract, kafka).registry
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    now = datetime.now(UTC)
    for e in keys.entries():
        until = e.valid_until.isoformat() if e.valid_until else "-"
        click.echo(f"{e.kid}\t{e.agency}\t{e.status_at(now)}\t{e.valid_from.isoformat()}\t{until}")


@command.command("export")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True)
def export_keys(out: Path) -> None:
    """Write the topic's signed changes to a file (to carry to an air-gapped site)."""
    contract, kafka = _settings(None)
    try:
        trusted = _registry.trusted_key(contract)
        found = _registry.records_of(contract, kafka)
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    # Only the registry's own changes travel: junk on the topic stays behind.
    records = [r for r in found if isinstance(read_change(r, trusted), KeyChange)]
    out.write_text("".join(r.decode("utf-8") + "\n" for r in records), encoding="utf-8")
    skipped = len(found) - len(records)
    note = f" ({skipped} record(s) not signed by the registry key left out)" if skipped else ""
    click.echo(f"exported {len(records)} signed change(s) to {out}{note}")


@command.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
def import_keys(file: Path) -> None:
    """Publish a file of signed changes on the topic; refuses if any is not the registry's."""
    contract, kafka = _settings(None)
    trusted = _registry.trusted_key(contract)
    lines = [line for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = [line.encode("utf-8") for line in lines]
    for number, record in enumerate(records, start=1):
        read = read_change(record, trusted)
        if not isinstance(read, KeyChange):
            raise click.ClickException(
                f"{file}, line {number}: {read.value} (not a change signed by the registry "
                "key this machine trusts); nothing was imported"
            )
    try:
        before = _registry.current(contract, kafka)
        new = sum(1 for record in records if before.apply(record) is Outcome.APPLIED)
        where = _registry.write(records, contract, kafka)
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"imported {len(records)} signed change(s) to {where} ({new} new)")
