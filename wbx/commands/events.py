"""`wbx validate`, `wbx sign`, `wbx verify`: line-by-line checks for a national system's files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

import click
from pydantic import ValidationError

from schemas.compose import envelope_from_object, payload_from_object
from schemas.envelope import Envelope, EnvelopeBody, describe_errors
from schemas.errors import EnvelopeInvalidError, WbxError
from schemas.keys import key_id, load_private_key
from schemas.settings import ContractSettings, KafkaSettings
from schemas.signing import sign_wire
from schemas.verification import Verifier
from wbx.commands import _registry
from wbx.commands._jsonl import read_jsonl
from wbx.commands._registry import refuse_unusable_key

_input = click.argument("file", type=click.File("rb"))


def _validate_object(obj: dict[str, Any]) -> str:
    """Validate one object against the contract; returns its event type or raises."""
    if "specversion" in obj:
        model = Envelope if "wbxsig" in obj else EnvelopeBody
        try:
            return model.model_validate(obj).type
        except ValidationError as exc:
            raise EnvelopeInvalidError(describe_errors(exc)) from None
    payload, _ = payload_from_object(obj)
    return payload.event_type()


def _summary(good: int, bad: int, verb: str) -> None:
    click.echo(f"{good} {verb}, {bad} rejected", err=True)
    if bad:
        raise SystemExit(1)


@click.command("validate")
@_input
def validate(file: IO[bytes]) -> None:
    """Check each line (envelope or bare payload with `type`) against the schemas."""
    good = bad = 0
    for line in read_jsonl(file):
        try:
            if line.error:
                raise EnvelopeInvalidError(line.error)
            event_type = _validate_object(line.value)
        except EnvelopeInvalidError as exc:
            bad += 1
            click.echo(f"line {line.number}: invalid: {exc}")
            continue
        good += 1
        click.echo(f"line {line.number}: valid {event_type}")
    _summary(good, bad, "valid")


@click.command("sign")
@click.option("--key", "key_file", required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--agency", required=True, help="Agency id the key belongs to, e.g. RS-BP.")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-")
@_input
def sign(key_file: Path, agency: str, output: IO[str], file: IO[bytes]) -> None:
    """Sign unsigned envelopes or bare payloads; writes one signed envelope per line."""
    try:
        private = load_private_key(key_file)
        kid = key_id(agency, private.public_key())
        refuse_unusable_key(agency, kid)
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    good = bad = 0
    for line in read_jsonl(file):
        try:
            if line.error:
                raise EnvelopeInvalidError(line.error)
            body = envelope_from_object(line.value, agency)
        except (EnvelopeInvalidError, ValueError) as exc:
            bad += 1
            click.echo(f"line {line.number}: not signed: {exc}", err=True)
            continue
        signed = sign_wire(body.to_wire(), private, kid)
        output.write(json.dumps(signed, ensure_ascii=False, separators=(",", ":")) + "\n")
        good += 1
    _summary(good, bad, "signed")


@click.command("verify")
@click.option(
    "--registry",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Seed registry file (default: WBX_KEY_REGISTRY); changes come from the topic or "
    "WBX_REGISTRY_LOG.",
)
@_input
def verify(registry: Path | None, file: IO[bytes]) -> None:
    """Verify each signed line as received now and print its reason code (ok, ...)."""
    settings = ContractSettings()
    if registry is not None:
        settings = settings.model_copy(update={"key_registry": registry})
    try:
        keys = _registry.current(settings, KafkaSettings())
        verifier = Verifier.from_settings(settings, keys.registry)
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    good = bad = 0
    for line in read_jsonl(file):
        verdict = verifier.verify_bytes(line.raw)
        ident = line.value.get("id", "?") if isinstance(line.value, dict) else "?"
        if verdict.ok:
            good += 1
            click.echo(f"line {line.number}: ok {ident}")
        else:
            bad += 1
            click.echo(f"line {line.number}: {verdict.reason.value} {ident}: {verdict.detail}")
    _summary(good, bad, "ok")


commands = [validate, sign, verify]
