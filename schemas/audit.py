"""The audit trail: signed, hash-linked records of every release and action (`wbx.audit.v1`).

Each writer (a worker's hop, a gateway) keeps its own chain for as long as it runs: every
record carries the chain's id, its sequence number and the SHA-256 of the chain's previous
record, and is signed by the platform key like every platform record (`schemas.signed`).
So nobody with write access to the topic can alter, delete or reorder a record without
`verify_audit` naming it: an altered record fails its signature, a deleted one leaves a gap
in the numbers, a moved one comes after its successor. A chain starts afresh with each run
of its writer (its id names the run), so no writer ever has to recover a head after a crash
and two writers never share a chain.

Deleting a chain's last records leaves no gap; the writers therefore publish checkpoints
(the chain's head: its last number and that record's SHA-256) on
`wbx.audit.checkpoints.v1`, and anybody can keep a copy and hold the trail to them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import AwareDatetime, ConfigDict, Field, ValidationError

from schemas.canonical import canonical_json
from schemas.errors import describe_validation
from schemas.payloads.common import WireModel
from schemas.signed import SignedRecord
from schemas.vocab import Handling, Purpose

GENESIS = "0" * 64
"""The `prev_sha256` of a chain's first record."""


class AuditAction(StrEnum):
    """What an audit record records."""

    RELEASE = "release"  # personal data (pseudonymised or not) left for a recipient
    ACKNOWLEDGE = "acknowledge"  # a PCC operator acknowledged an alert
    ESCALATE = "escalate"  # an unacknowledged alert went up a level
    KEY_CHANGE = "key_change"  # the key registry changed
    SIGN_IN = "sign_in"  # somebody signed in to the pages
    EXPORT = "export"  # somebody downloaded data (a statistics table, a DPO report)


class AuditFact(WireModel):
    """What happened, before its writer links it into a chain."""

    audit_id: str = Field(description="deterministic: the same fact again has the same id")
    at: AwareDatetime
    action: AuditAction = AuditAction.RELEASE
    actor: str = Field(description="who acted: `worker`, an operator, an analyst, an admin")
    recipient: str = Field(
        description="who received the data or the action: `view:<view>`, `pcc:<id>`, ..."
    )
    purpose: Purpose | None = None
    handling: Handling | None = None
    event_id: str | None = None
    source: str | None = None
    type: str | None = None
    events: list[str] = Field(
        default_factory=list, description="the ids of the events behind an alert released"
    )
    target: str | None = Field(
        default=None, description="the alert, key or table acted on, when not an event"
    )
    fields: dict[str, str] = Field(
        default_factory=dict, description="released field path -> action applied"
    )
    pseudonyms: list[str] = Field(
        default_factory=list,
        description="the pseudonyms of the persons, documents and vehicles concerned, so the "
        "data-protection officer can find every release about one person",
    )
    detail: str = ""


class AuditRecord(AuditFact, SignedRecord):
    """One record of the trail as it is on `wbx.audit.v1`: a fact, linked and signed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    chain: str = Field(min_length=1, max_length=200, description="the writer's run")
    seq: int = Field(ge=1, description="1, 2, 3, ... within the chain")
    prev_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the chain's previous record"
    )


class AuditCheckpoint(SignedRecord):
    """The head of a chain at a moment (`wbx.audit.checkpoints.v1`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    chain: str
    seq: int = Field(ge=1, description="the number of the chain's last record")
    head_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="that record's SHA-256")
    at: AwareDatetime


def chain_id(writer: str, host: str, run: str, stage: str) -> str:
    """A chain's id: the writer, where it runs, which run and which stage, e.g.
    `worker/host-1/3f2a9c1e0b7d/verify-protect` (a run starts a new chain)."""
    return f"{writer}/{host}/{run}/{stage}"


def record_sha256(record: SignedRecord) -> str:
    """The SHA-256 of a record's canonical form, signature included: what its successor
    names in `prev_sha256` (the bytes on the topic may differ in spacing, never in this)."""
    return hashlib.sha256(canonical_json(record.model_dump(mode="json"))).hexdigest()


class AuditChain:
    """The writer's side of one chain: links and signs each fact after the last.

    Plain state, a few fields whatever the traffic. The caller must emit the records in
    the order `link` made them, on one partition (keyed by `chain`), and say which were
    handed to Kafka (`mark_sent`): a checkpoint names no record that might not reach the
    topic (a crash between the two would otherwise look like a deletion for ever).
    """

    def __init__(self, chain: str, private: Ed25519PrivateKey, signer: str) -> None:
        self.chain = chain
        self._private = private
        self.signer = signer
        self.public_key = private.public_key()
        self.seq = 0
        self.head = GENESIS
        self._sent = (0, GENESIS)
        self._checkpointed = 0

    def link(self, fact: AuditFact) -> AuditRecord:
        """The next record of the chain, carrying `fact`."""
        record = AuditRecord(
            **fact.model_dump(),
            chain=self.chain,
            seq=self.seq + 1,
            prev_sha256=self.head,
            signer=self.signer,
        ).signed_with(self._private)
        self.seq, self.head = record.seq, record_sha256(record)
        return record

    def mark_sent(self, seq: int, sha: str) -> None:
        """Record `seq` (whose SHA-256 is `sha`, `head` right after its `link`) went to
        Kafka; a checkpoint may name it once the producer has flushed."""
        if seq > self._sent[0]:
            self._sent = (seq, sha)

    def checkpoint(self, at: datetime) -> AuditCheckpoint | None:
        """The head of what was sent, signed, when it moved since the last checkpoint; else
        None. Publish it only once what was sent before it is on the topic (a flush)."""
        seq, sha = self._sent
        if seq == self._checkpointed:
            return None
        self._checkpointed = seq
        return AuditCheckpoint(
            chain=self.chain, seq=seq, head_sha256=sha, at=at, signer=self.signer
        ).signed_with(self._private)


@dataclass(frozen=True, slots=True)
class Stored:
    """One record as read from a topic: where it was and its value."""

    partition: int
    offset: int
    value: bytes

    def where(self, topic: str) -> str:
        """`topic:partition@offset`."""
        return f"{topic}:{self.partition}@{self.offset}"


class BreakKind(StrEnum):
    """How a chain is broken."""

    UNREADABLE = "unreadable"  # not an audit record at all
    UNTRUSTED = "untrusted_signer"  # signed by a key the verifier does not trust
    ALTERED = "altered"  # the signature does not hold: the content changed
    DELETED = "deleted"  # numbers missing (and not found later)
    REORDERED = "reordered"  # a record comes after one with a higher number
    FORKED = "forked"  # two validly signed records claim the same place
    SCATTERED = "scattered"  # a chain's records on more than one partition


@dataclass(frozen=True, slots=True)
class Break:
    """The first fault of one chain, naming the record."""

    kind: BreakKind
    chain: str | None
    seq: int | None
    where: str
    detail: str

    def __str__(self) -> str:
        chain = f" chain {self.chain}" if self.chain else ""
        seq = f" seq {self.seq}" if self.seq is not None else ""
        return f"{self.kind.value} at {self.where}{chain}{seq}: {self.detail}"


@dataclass
class ChainSummary:
    """What the walk found in one chain (plain values: a long trail costs no memory)."""

    chain: str
    first_seq: int
    last_seq: int
    head_sha256: str
    partition: int
    last_where: str
    records: int = 0
    duplicates: int = 0
    broken: Break | None = None
    gap: tuple[int, int, Break] | None = None
    """Numbers lo..hi missing before the record the break names: a deletion, unless one of
    them turns up later on the topic (then the record was moved)."""


@dataclass
class AuditReport:
    """The result of a walk: every chain, and every break (one per chain at most)."""

    records: int = 0
    chains: dict[str, ChainSummary] = field(default_factory=dict)
    breaks: list[Break] = field(default_factory=list)
    checkpoints_checked: int = 0

    @property
    def ok(self) -> bool:
        """Whether no chain is broken."""
        return not self.breaks


def _span(lo: int, hi: int) -> str:
    return f"seq {lo}" if lo == hi else f"seq {lo} to {hi}"


class TrailVerifier:
    """Re-walks the trail record by record, in topic order, and names each chain's first
    break. Holds one summary per chain and the checkpoints given, never the records.

    `trusted` maps signer ids to the keys whose signatures count. `partition_starts` gives
    each partition's first offset still held: a chain whose first record is that one may
    start past 1 (retention removed the older records, as it does to the oldest chains).
    Each checkpoint must match the record it names, and each chain must reach them.
    """

    def __init__(
        self,
        trusted: Mapping[str, Ed25519PublicKey],
        *,
        topic: str,
        checkpoints: Iterable[AuditCheckpoint] = (),
        partition_starts: Mapping[int, int] | None = None,
    ) -> None:
        self._trusted = trusted
        self._topic = topic
        self._starts = dict(partition_starts or {})
        self.report = AuditReport()
        self._expected: dict[str, dict[int, str]] = {}
        self._checkpoints: list[AuditCheckpoint] = []
        for checkpoint in checkpoints:
            self.report.checkpoints_checked += 1
            key = trusted.get(checkpoint.signer)
            if key is None or not checkpoint.signature_valid(key):
                self.report.breaks.append(
                    Break(
                        BreakKind.UNTRUSTED,
                        checkpoint.chain,
                        checkpoint.seq,
                        f"checkpoint of {checkpoint.at.isoformat()}",
                        "the checkpoint's signature does not hold under a trusted key",
                    )
                )
                continue
            self._checkpoints.append(checkpoint)
            self._expected.setdefault(checkpoint.chain, {})[checkpoint.seq] = checkpoint.head_sha256

    def partition_start(self, partition: int, offset: int) -> None:
        """Name the first offset of `partition` still held (for a reader that learns it as
        it goes: its first record of the partition)."""
        self._starts[partition] = offset

    def feed(self, stored: Stored) -> None:
        """Check the next record of the topic."""
        self.report.records += 1
        where = stored.where(self._topic)
        try:
            record = AuditRecord.model_validate_json(stored.value)
        except ValidationError as exc:
            detail = describe_validation(exc, root="(record)")
            self.report.breaks.append(Break(BreakKind.UNREADABLE, None, None, where, detail))
            return
        sha = record_sha256(record)
        summary = self.report.chains.get(record.chain)
        if summary is None:
            summary = ChainSummary(
                record.chain, record.seq, record.seq - 1, GENESIS, stored.partition, where
            )
            self.report.chains[record.chain] = summary
            retained = self._starts.get(stored.partition) == stored.offset
            if record.seq != 1 and not retained:
                self._fail(
                    summary,
                    BreakKind.DELETED,
                    record,
                    where,
                    f"the chain starts here: {_span(1, record.seq - 1)} missing",
                )
                return
            if record.seq == 1 and record.prev_sha256 != GENESIS:
                self._fail(
                    summary,
                    BreakKind.FORKED,
                    record,
                    where,
                    "a first record that names a predecessor",
                )
                return
            if record.seq != 1:
                summary.head_sha256 = record.prev_sha256  # retention took the ones before
        if summary.gap is not None:
            lo, hi, _ = summary.gap
            if lo <= record.seq <= hi:
                summary.gap = None
                self._moved(summary, record, where)
            return
        if summary.broken is not None:
            return  # the first break is what counts; the rest follows from it
        self._link(summary, record, sha, stored, where)

    def _link(
        self, summary: ChainSummary, record: AuditRecord, sha: str, stored: Stored, where: str
    ) -> None:
        key = self._trusted.get(record.signer)
        if key is None:
            self._fail(
                summary,
                BreakKind.UNTRUSTED,
                record,
                where,
                f"signed by {record.signer}, which is not a trusted key",
            )
            return
        if not record.signature_valid(key):
            self._fail(
                summary,
                BreakKind.ALTERED,
                record,
                where,
                "the signature does not hold: the record was changed",
            )
            return
        if summary.records and sha == summary.head_sha256:
            summary.duplicates += 1  # delivered twice (a producer's retry): the same record
            return
        if stored.partition != summary.partition:
            self._fail(
                summary,
                BreakKind.SCATTERED,
                record,
                where,
                f"the chain's earlier records are on partition {summary.partition}",
            )
            return
        expected = summary.last_seq + 1
        if record.seq > expected:
            detail = f"{_span(expected, record.seq - 1)} missing before this record"
            gap_break = Break(BreakKind.DELETED, summary.chain, record.seq, where, detail)
            summary.gap = (expected, record.seq - 1, gap_break)
            return
        if record.seq < expected:
            self._moved(summary, record, where)
            return
        if record.prev_sha256 != summary.head_sha256:
            self._fail(
                summary,
                BreakKind.FORKED,
                record,
                where,
                f"names a predecessor other than {summary.last_where}",
            )
            return
        named = self._expected.get(summary.chain, {}).get(record.seq)
        if named is not None and named != sha:
            self._fail(
                summary,
                BreakKind.FORKED,
                record,
                where,
                "not the record a checkpoint names for this place",
            )
            return
        summary.records += 1
        summary.last_seq, summary.head_sha256, summary.last_where = record.seq, sha, where

    def _fail(
        self, summary: ChainSummary, kind: BreakKind, record: AuditRecord, where: str, detail: str
    ) -> None:
        summary.broken = Break(kind, summary.chain, record.seq, where, detail)

    def _moved(self, summary: ChainSummary, record: AuditRecord, where: str) -> None:
        detail = f"comes after seq {summary.last_seq} ({summary.last_where})"
        self._fail(summary, BreakKind.REORDERED, record, where, detail)

    def finish(self) -> AuditReport:
        """The report, once every record was fed: gaps nothing filled are deletions, and
        each chain must reach its checkpoints."""
        for summary in self.report.chains.values():
            if summary.gap is not None:
                summary.broken, summary.gap = summary.gap[2], None
        for checkpoint in self._checkpoints:
            held = self.report.chains.get(checkpoint.chain)
            at = f"checkpoint of {checkpoint.at.isoformat()}"
            if held is None:
                self.report.breaks.append(
                    Break(
                        BreakKind.DELETED,
                        checkpoint.chain,
                        checkpoint.seq,
                        at,
                        f"the chain is not on {self._topic}, though it reached "
                        f"seq {checkpoint.seq}",
                    )
                )
            elif held.broken is None and checkpoint.seq > held.last_seq:
                held.broken = Break(
                    BreakKind.DELETED,
                    checkpoint.chain,
                    checkpoint.seq,
                    at,
                    f"the chain ends at seq {held.last_seq} ({held.last_where}): "
                    f"{_span(held.last_seq + 1, checkpoint.seq)} deleted",
                )
        self.report.breaks.extend(
            s.broken for s in self.report.chains.values() if s.broken is not None
        )
        return self.report


def verify_audit(
    stored: Iterable[Stored],
    trusted: Mapping[str, Ed25519PublicKey],
    *,
    topic: str,
    checkpoints: Iterable[AuditCheckpoint] = (),
    partition_starts: Mapping[int, int] | None = None,
) -> AuditReport:
    """Walk `stored` (topic order) with a `TrailVerifier` and return its report."""
    verifier = TrailVerifier(
        trusted, topic=topic, checkpoints=checkpoints, partition_starts=partition_starts
    )
    for one in stored:
        verifier.feed(one)
    return verifier.finish()


def latest_checkpoints(checkpoints: Iterable[AuditCheckpoint]) -> list[AuditCheckpoint]:
    """The last checkpoint of each chain (the one an outside party needs to keep)."""
    latest: dict[str, AuditCheckpoint] = {}
    for one in checkpoints:
        held = latest.get(one.chain)
        if held is None or one.seq >= held.seq:
            latest[one.chain] = one
    return sorted(latest.values(), key=lambda c: (c.at, c.chain))


def checkpoint_of(value: bytes) -> AuditCheckpoint | None:
    """A checkpoint from its bytes, None when they are not one."""
    try:
        return AuditCheckpoint.model_validate_json(value)
    except ValidationError:
        return None


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """What a data-protection officer asks of the trail; unset criteria match everything."""

    event_id: str | None = None
    pseudonyms: frozenset[str] = frozenset()
    recipient: str | None = None
    purpose: Purpose | None = None
    action: AuditAction | None = None
    since: datetime | None = None
    until: datetime | None = None

    def matches(self, record: AuditFact) -> bool:
        """Whether `record` answers the query (every criterion set holds)."""
        if self.event_id is not None and not (
            record.event_id == self.event_id or self.event_id in record.events
        ):
            return False
        if self.pseudonyms and self.pseudonyms.isdisjoint(record.pseudonyms):
            return False
        if self.recipient is not None and record.recipient != self.recipient:
            return False
        if self.purpose is not None and record.purpose is not self.purpose:
            return False
        if self.action is not None and record.action is not self.action:
            return False
        if self.since is not None and record.at < self.since:
            return False
        return self.until is None or record.at < self.until


def audit_record_of(value: bytes) -> AuditRecord | None:
    """An audit record from its bytes, None when they are not one (the verifier names those)."""
    try:
        return AuditRecord.model_validate_json(value)
    except ValidationError:
        return None
