"""`wbx audit` (verify, query, checkpoints) and `wbx dpo subject`: the audit trail's tools."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from schemas.audit import AuditAction, AuditCheckpoint, AuditQuery
from schemas.errors import WbxError, describe_validation
from schemas.personal import DataKind
from schemas.settings import ContractSettings, KafkaSettings
from schemas.topics import AUDIT, load_topic_plan
from schemas.vocab import Purpose


def _run(coroutine: Any) -> Any:
    try:
        return asyncio.run(coroutine)
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None


def _trust() -> dict[str, Any]:
    try:
        trusted = ContractSettings().audit_trust()
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    if not trusted:
        raise click.ClickException(
            "no key to check signatures against: set WBX_RECEIPT_PUBLIC_KEY (the workers'), "
            "WBX_AUDIT_PUBLIC_KEYS (the gateways') and WBX_REGISTRY_PUBLIC_KEY (`wbx up` "
            "prints them)"
        )
    return trusted


def _load_checkpoints(path: Path) -> list[AuditCheckpoint]:
    found = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            found.append(AuditCheckpoint.model_validate_json(line))
        except ValidationError as exc:
            detail = describe_validation(exc, root="(line)")
            raise click.ClickException(f"{path}:{number}: {detail}") from None
    return found


@click.group("audit")
def audit() -> None:
    """Check and query the audit trail (wbx.audit.v1)."""


@audit.command("verify")
@click.option(
    "--checkpoints",
    "checkpoints_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="JSON lines of checkpoints you kept (from `wbx audit checkpoints`); the ones "
    "published on wbx.audit.checkpoints.v1 are checked too.",
)
def verify(checkpoints_file: Path | None) -> None:
    """Re-walk every chain of the trail; name each chain's first break. Exit 1 if any."""
    from schemas.trail import published_checkpoints, still_held, verify_trail

    trusted = _trust()
    kafka = KafkaSettings()

    async def walk() -> Any:
        held = await published_checkpoints(kafka)
        if checkpoints_file is not None:
            held += _load_checkpoints(checkpoints_file)
        plan = {s.name: s for s in load_topic_plan(kafka.topics_file, [], [])}
        retention = timedelta(milliseconds=plan[AUDIT].retention_ms)
        return await verify_trail(kafka, trusted, still_held(held, datetime.now(UTC), retention))

    report = _run(walk())
    for fault in report.breaks:
        click.echo(f"BROKEN: {fault}")
    whole = sum(1 for s in report.chains.values() if s.broken is None)
    duplicates = sum(s.duplicates for s in report.chains.values())
    click.echo(
        f"{report.records} records in {len(report.chains)} chains, {whole} whole, "
        f"{len(report.breaks)} broken; {report.checkpoints_checked} checkpoints checked"
        + (f"; {duplicates} records delivered twice (harmless)" if duplicates else "")
    )
    if not report.ok:
        raise SystemExit(1)


@audit.command("checkpoints")
def checkpoints() -> None:
    """Print the latest signed head of each chain as JSON lines: keep them outside WBX and
    give them to `wbx audit verify --checkpoints` later."""
    from schemas.trail import published_checkpoints

    for one in _run(published_checkpoints(KafkaSettings())):
        click.echo(one.model_dump_json())


def _query_options(function: Any) -> Any:
    options = [
        click.option("--event-id", default=None, help="Records about this event."),
        click.option("--pseudonym", multiple=True, help="Records naming this pseudonym."),
        click.option("--recipient", default=None, help="e.g. pcc:pcc-trebinje, view:..."),
        click.option("--purpose", type=click.Choice([p.value for p in Purpose]), default=None),
        click.option("--action", type=click.Choice([a.value for a in AuditAction]), default=None),
        click.option("--since", type=click.DateTime(), default=None, help="UTC, inclusive."),
        click.option("--until", type=click.DateTime(), default=None, help="UTC, exclusive."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=moment.tzinfo or UTC)


@audit.command("query")
@_query_options
@click.option("--limit", type=click.IntRange(min=1), default=1000, show_default=True)
def query(
    event_id: str | None,
    pseudonym: tuple[str, ...],
    recipient: str | None,
    purpose: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> None:
    """Print the audit records that answer the query as JSON lines, oldest first."""
    from schemas.trail import query_trail

    asked = AuditQuery(
        event_id=event_id,
        pseudonyms=frozenset(pseudonym),
        recipient=recipient,
        purpose=Purpose(purpose) if purpose else None,
        action=AuditAction(action) if action else None,
        since=_utc(since),
        until=_utc(until),
    )
    rows = _run(query_trail(KafkaSettings(), asked, limit))
    for row in rows:
        click.echo(row.model_dump_json())
    click.echo(f"{len(rows)} audit records", err=True)


@click.group("dpo")
def dpo() -> None:
    """The data-protection officer's tools."""


_IDENTIFIERS = {
    "document_number": DataKind.DOCUMENT_NUMBER,
    "vehicle_plate": DataKind.VEHICLE_PLATE,
    "phone": DataKind.PHONE,
    "name": DataKind.NAME,
    "case_reference": DataKind.CASE_REFERENCE,
}


@dpo.command("subject")
@click.option("--document-number", default=None, help="The person's travel document number.")
@click.option("--vehicle-plate", default=None)
@click.option("--phone", default=None)
@click.option("--name", default=None)
@click.option("--case-reference", default=None)
@click.option(
    "--format", "form", type=click.Choice(["json", "csv"]), default="json", show_default=True
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the report here (default: standard output).",
)
def subject(form: str, output: Path | None, **identifiers: str | None) -> None:
    """Every event that named one person, across agencies, who received it, when and for
    what purpose: a report to hand over (a data subject's access request).

    The identifier becomes its pseudonym here (with the worker's pseudonym secret,
    WBX_WORKER_PSEUDONYM_SECRET) and only the pseudonym is looked for; the report holds
    ids, times, recipients and purposes, never another agency's personal data.
    """
    from consumers.pseudonyms import Pseudonymiser
    from consumers.settings import WorkerSettings
    from schemas.trail import query_trail
    from wbx.dpo import SubjectReport

    given = {k: v for k, v in identifiers.items() if v}
    if len(given) != 1:
        raise click.ClickException(
            "name exactly one identifier: --document-number, --vehicle-plate, --phone, "
            "--name or --case-reference"
        )
    (kind_name, value), = given.items()  # fmt: skip
    kafka = KafkaSettings()
    worker = WorkerSettings()
    try:
        pseudonymiser = Pseudonymiser(
            worker.pseudonym_secret_bytes(kafka.embedded), worker.pseudonym_key_id
        )
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    pseudonym = pseudonymiser.pseudonym(_IDENTIFIERS[kind_name], value)
    rows = _run(query_trail(kafka, AuditQuery(pseudonyms=frozenset({pseudonym}))))
    report = SubjectReport(kind_name, [pseudonym], datetime.now(UTC), rows)
    text = (
        json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n"
        if form == "json"
        else report.as_csv()
    )
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, "utf-8")
    click.echo(
        f"{len(report.events)} events, {len(rows)} releases and actions for {pseudonym}"
        + (f"; written to {output}" if output else ""),
        err=True,
    )


commands = [audit, dpo]
