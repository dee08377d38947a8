"""The key registry as the CLI sees it: the seed file plus the signed changes, read from the
`wbx.keys.v1` topic or, offline, from a file of signed changes (`WBX_REGISTRY_LOG`)."""

from __future__ import annotations

import asyncio
import getpass
import socket
import uuid
from datetime import UTC, datetime
from pathlib import Path

import click
from aiokafka import AIOKafkaProducer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from schemas.audit import AuditAction, AuditChain, AuditFact, chain_id
from schemas.derived import derived_id
from schemas.errors import KeyRegistryError, PrivateKeyError, WbxError
from schemas.keys import KeyRegistry, load_or_create_private_key, load_private_key
from schemas.reading import read_to_end
from schemas.registry_log import (
    KeyChange,
    Outcome,
    RegistryLog,
    parse_public_key,
    registry_key_id,
)
from schemas.settings import ContractSettings, KafkaSettings
from schemas.signed import public_key_text
from schemas.topics import AUDIT, AUDIT_CHECKPOINTS, KEYS
from wbx.broker import wait_for_broker


def trusted_key(contract: ContractSettings) -> Ed25519PublicKey | None:
    """The registry key to trust: the configured public key, else the local private key's."""
    if contract.registry_public_key:
        return parse_public_key(contract.registry_public_key)
    if contract.registry_private_key.exists():
        return load_private_key(contract.registry_private_key).public_key()
    return None


def signing_key(contract: ContractSettings) -> Ed25519PrivateKey:
    """The registry key that signs changes; a clear error when this machine has none."""
    try:
        return load_private_key(contract.registry_private_key)
    except PrivateKeyError:
        raise KeyRegistryError(
            f"no registry key at {contract.registry_private_key}: registry changes are signed "
            "by the operators' registry key; create one with `wbx keys init-registry` or point "
            "WBX_REGISTRY_PRIVATE_KEY at it"
        ) from None


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """The registry key at `path`, made (mode 0600) if there is none yet."""
    return load_or_create_private_key(path)


def records_of(contract: ContractSettings, kafka: KafkaSettings) -> list[bytes]:
    """The signed changes: from the offline file if one is configured, else from the topic."""
    if contract.registry_log is not None:
        if not contract.registry_log.exists():
            return []
        lines = contract.registry_log.read_text(encoding="utf-8").splitlines()
        return [line.encode("utf-8") for line in lines if line.strip()]
    try:
        asyncio.run(wait_for_broker(kafka.bootstrap_servers, 10))
        found = asyncio.run(read_to_end(kafka, [KEYS]))
    except WbxError as exc:
        raise KeyRegistryError(
            f"cannot read {KEYS} at {kafka.bootstrap_servers} ({exc}); start the platform, "
            "or work offline with WBX_REGISTRY_LOG=<file>"
        ) from None
    return [record.value for record in found if record.value is not None]


def current(contract: ContractSettings, kafka: KafkaSettings) -> RegistryLog:
    """The registry now: the seed file with every signed change applied."""
    log = RegistryLog(KeyRegistry.load(contract.key_registry), trusted_key(contract))
    if log.trusted is None:
        click.echo(f"note: no registry key is configured, so only the seed file "
                   f"{contract.key_registry} counts", err=True)  # fmt: skip
    ignored = [o for o in map(log.apply, records_of(contract, kafka)) if o in _BAD]
    if ignored:
        click.echo(f"note: {len(ignored)} registry record(s) ignored (not signed by the "
                   "registry key, or contradicting a key)", err=True)  # fmt: skip
    return log


_BAD = (Outcome.UNSIGNED, Outcome.CONFLICT, Outcome.UNREADABLE)


def write(records: list[bytes], contract: ContractSettings, kafka: KafkaSettings) -> str:
    """Append signed changes to the offline file, or publish them on the topic; says where."""
    if contract.registry_log is not None:
        contract.registry_log.parent.mkdir(parents=True, exist_ok=True)
        with contract.registry_log.open("a", encoding="utf-8") as handle:
            for record in records:
                handle.write(record.decode("utf-8") + "\n")
        return str(contract.registry_log)
    asyncio.run(_publish(records, kafka, signing_key(contract)))
    return f"{KEYS} at {kafka.bootstrap_servers}"


def _operator() -> str:
    try:
        return f"admin:{getpass.getuser()}@{socket.gethostname()}"
    except OSError:  # no user name in this environment (a container without one)
        return f"admin:@{socket.gethostname()}"


def key_change_fact(change: KeyChange, actor: str) -> AuditFact:
    """The audit fact of one signed registry change."""
    entry = change.entry
    return AuditFact(
        audit_id=derived_id("key_change", change.sig),
        at=change.at,
        action=AuditAction.KEY_CHANGE,
        actor=actor,
        recipient=KEYS,
        target=entry.kid,
        detail=f"{change.change} key {entry.kid} of {entry.agency}",
    )


async def _publish(records: list[bytes], kafka: KafkaSettings, signer: Ed25519PrivateKey) -> None:
    await wait_for_broker(kafka.bootstrap_servers, 10)
    # Each change is on the audit trail too, on a chain of this run signed by the registry key.
    chain = AuditChain(
        chain_id("admin", socket.gethostname(), uuid.uuid4().hex[:12], "keys"),
        signer,
        registry_key_id(signer.public_key()),
    )
    actor = _operator()
    producer = AIOKafkaProducer(
        acks="all", enable_idempotence=kafka.use_idempotence, **kafka.client_options()
    )
    await producer.start()
    try:
        for record in records:
            change = KeyChange.model_validate_json(record)
            await producer.send_and_wait(KEYS, record, key=change.entry.kid.encode("utf-8"))
            audited = chain.link(key_change_fact(change, actor))
            sha = chain.head
            await producer.send_and_wait(
                AUDIT, audited.model_dump_json().encode("utf-8"), key=chain.chain.encode("utf-8")
            )
            chain.mark_sent(audited.seq, sha)
        head = chain.checkpoint(datetime.now(UTC))
        if head is not None:
            await producer.send_and_wait(
                AUDIT_CHECKPOINTS,
                head.model_dump_json().encode("utf-8"),
                key=chain.chain.encode("utf-8"),
            )
    finally:
        await producer.stop()


def public_text(private: Ed25519PrivateKey) -> str:
    """The public half of a registry key, as WBX_REGISTRY_PUBLIC_KEY takes it."""
    return public_key_text(private.public_key())


def refuse_unusable_key(agency: str, kid: str) -> None:
    """Raise KeyRegistryError (one sentence: which and what to do) unless `kid` may sign for
    `agency` now: registered, for that agency, neither retired nor revoked."""
    keys = current(ContractSettings(), KafkaSettings()).registry
    problem = keys.signing_problem(agency, kid)
    if problem is not None:
        raise KeyRegistryError(problem)
