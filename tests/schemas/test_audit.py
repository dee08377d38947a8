"""The audit trail's chains: every alteration, deletion or reordering is named."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from schemas.audit import (
    GENESIS,
    AuditAction,
    AuditCheckpoint,
    AuditQuery,
    AuditRecord,
    BreakKind,
    Stored,
    record_sha256,
    verify_audit,
)
from schemas.signed import RECEIPT_PURPOSE, key_id
from tests.factories import AUDIT_KEY, NOW, make_audit_chain, make_audit_fact

TOPIC = "wbx.audit.v1"
TRUSTED = {key_id(AUDIT_KEY.public_key(), RECEIPT_PURPOSE): AUDIT_KEY.public_key()}


def _stored(records: list[AuditRecord], partition: int = 0, first: int = 0) -> list[Stored]:
    return [
        Stored(partition, first + i, r.model_dump_json().encode()) for i, r in enumerate(records)
    ]


def test_a_whole_chain_verifies_and_links_each_record_to_the_one_before() -> None:
    _, records = make_audit_chain(5)
    assert records[0].prev_sha256 == GENESIS
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    for before, after in itertools.pairwise(records):
        assert after.prev_sha256 == record_sha256(before)
    report = verify_audit(_stored(records), TRUSTED, topic=TOPIC)
    assert report.ok, report.breaks
    summary = report.chains["worker/test/run1/verify-protect"]
    assert (summary.first_seq, summary.last_seq, summary.records) == (1, 5, 5)


def test_an_altered_record_is_named_by_its_position() -> None:
    _, records = make_audit_chain(5)
    stored = _stored(records)
    value = json.loads(stored[2].value)
    value["recipient"] = "pcc:pcc-somewhere-else"  # rewritten without the platform key
    stored[2] = Stored(0, 2, json.dumps(value).encode())
    report = verify_audit(stored, TRUSTED, topic=TOPIC)
    assert [(b.kind, b.seq, b.where) for b in report.breaks] == [
        (BreakKind.ALTERED, 3, "wbx.audit.v1:0@2")
    ]


def test_a_deleted_record_is_named_by_the_gap_it_leaves() -> None:
    _, records = make_audit_chain(5)
    stored = _stored(records)
    del stored[2]  # seq 3 gone; offsets of the others unchanged
    report = verify_audit(stored, TRUSTED, topic=TOPIC)
    assert [(b.kind, b.seq, b.where) for b in report.breaks] == [
        (BreakKind.DELETED, 4, "wbx.audit.v1:0@3")
    ]
    assert "seq 3 missing" in report.breaks[0].detail


def test_a_moved_record_is_reported_as_reordered_not_deleted() -> None:
    _, records = make_audit_chain(5)
    order = [records[0], records[2], records[1], records[3], records[4]]
    report = verify_audit(_stored(order), TRUSTED, topic=TOPIC)
    assert [(b.kind, b.seq, b.where) for b in report.breaks] == [
        (BreakKind.REORDERED, 2, "wbx.audit.v1:0@2")
    ]


def test_a_record_delivered_twice_is_no_break() -> None:
    _, records = make_audit_chain(3)
    report = verify_audit(_stored([*records[:2], records[1], records[2]]), TRUSTED, topic=TOPIC)
    assert report.ok, report.breaks
    assert report.chains[records[0].chain].duplicates == 1


def test_deleting_the_last_records_shows_against_a_checkpoint() -> None:
    writer, records = make_audit_chain(4)
    head = writer.checkpoint(NOW)
    assert head is not None and head.seq == 4
    assert writer.checkpoint(NOW) is None  # nothing new since: nothing to publish
    whole = verify_audit(_stored(records), TRUSTED, topic=TOPIC, checkpoints=[head])
    assert whole.ok and whole.checkpoints_checked == 1
    cut = verify_audit(_stored(records[:2]), TRUSTED, topic=TOPIC, checkpoints=[head])
    assert [(b.kind, b.seq) for b in cut.breaks] == [(BreakKind.DELETED, 4)]
    assert "seq 3 to 4 deleted" in cut.breaks[0].detail


def test_a_whole_chain_deleted_shows_against_its_checkpoint() -> None:
    writer, _ = make_audit_chain(2)
    head = writer.checkpoint(NOW)
    assert head is not None
    report = verify_audit([], TRUSTED, topic=TOPIC, checkpoints=[head])
    assert [(b.kind, b.chain) for b in report.breaks] == [(BreakKind.DELETED, writer.chain)]


def test_a_record_other_than_the_one_a_checkpoint_names_is_a_fork() -> None:
    writer, records = make_audit_chain(3)
    head = writer.checkpoint(NOW)
    assert head is not None
    # A key holder rewrote history after the checkpoint went out: the same first two
    # records (Ed25519 is deterministic), another third.
    other, again = make_audit_chain(2)
    assert again == records[:2]
    replaced = other.link(make_audit_fact(7))
    report = verify_audit(
        _stored([*records[:2], replaced]), TRUSTED, topic=TOPIC, checkpoints=[head]
    )
    assert [(b.kind, b.seq) for b in report.breaks] == [(BreakKind.FORKED, 3)]


def test_records_signed_by_another_key_are_not_trusted() -> None:
    intruder = Ed25519PrivateKey.generate()
    _, records = make_audit_chain(2, key=intruder)
    report = verify_audit(_stored(records), TRUSTED, topic=TOPIC)
    assert [b.kind for b in report.breaks] == [BreakKind.UNTRUSTED]


def test_a_forged_checkpoint_is_refused() -> None:
    writer, records = make_audit_chain(2)
    head = writer.checkpoint(NOW)
    assert head is not None
    forged = head.model_copy(update={"seq": 1})
    report = verify_audit(_stored(records), TRUSTED, topic=TOPIC, checkpoints=[forged])
    assert [b.kind for b in report.breaks] == [BreakKind.UNTRUSTED]


def test_a_chain_may_start_late_only_where_retention_cut_the_partition() -> None:
    _, records = make_audit_chain(5)
    tail = _stored(records[2:], first=40)
    held = verify_audit(tail, TRUSTED, topic=TOPIC, partition_starts={0: 40})
    assert held.ok, held.breaks
    cut = verify_audit(tail, TRUSTED, topic=TOPIC, partition_starts={0: 12})
    assert [(b.kind, b.seq) for b in cut.breaks] == [(BreakKind.DELETED, 3)]


def test_a_chain_spread_over_two_partitions_is_named() -> None:
    _, records = make_audit_chain(3)
    stored = [*_stored(records[:2]), Stored(1, 0, records[2].model_dump_json().encode())]
    report = verify_audit(stored, TRUSTED, topic=TOPIC)
    assert [(b.kind, b.where) for b in report.breaks] == [(BreakKind.SCATTERED, "wbx.audit.v1:1@0")]


def test_a_record_that_is_not_an_audit_record_is_named() -> None:
    _, records = make_audit_chain(2)
    stored = [*_stored(records), Stored(0, 2, b'{"hello": "world"}')]
    report = verify_audit(stored, TRUSTED, topic=TOPIC)
    assert [(b.kind, b.where) for b in report.breaks] == [
        (BreakKind.UNREADABLE, "wbx.audit.v1:0@2")
    ]
    assert report.chains[records[0].chain].broken is None


def test_chains_break_independently() -> None:
    _, first = make_audit_chain(3, chain="worker/a/run/verify-protect")
    _, second = make_audit_chain(3, chain="gateway/b/run/gateway")
    interleaved = [first[0], second[0], first[1], second[2], first[2]]  # second's seq 2 gone
    report = verify_audit(_stored(interleaved), TRUSTED, topic=TOPIC)
    assert [(b.chain, b.kind) for b in report.breaks] == [
        ("gateway/b/run/gateway", BreakKind.DELETED)
    ]
    assert report.chains["worker/a/run/verify-protect"].broken is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (AuditQuery(), [1, 2, 3]),
        (AuditQuery(event_id="ev-2"), [2]),
        (AuditQuery(pseudonyms=frozenset({f"psn:dev:{3:032x}"})), [3]),
        (AuditQuery(recipient="pcc:pcc-x"), [2]),
        (AuditQuery(action=AuditAction.ACKNOWLEDGE), [3]),
        (AuditQuery(since=NOW + timedelta(seconds=2)), [2, 3]),
        (AuditQuery(until=NOW + timedelta(seconds=2)), [1]),
    ],
)
def test_queries_match_every_criterion_given(query: AuditQuery, expected: list[int]) -> None:
    facts = [
        make_audit_fact(1),
        make_audit_fact(2, recipient="pcc:pcc-x", event_id=None, events=["ev-0", "ev-2"]),
        make_audit_fact(3, action=AuditAction.ACKNOWLEDGE),
    ]
    assert [n for n, fact in enumerate(facts, start=1) if query.matches(fact)] == expected


def test_checkpoint_round_trips_on_the_wire() -> None:
    writer, _ = make_audit_chain(1)
    head = writer.checkpoint(NOW)
    assert head is not None
    assert AuditCheckpoint.model_validate_json(head.model_dump_json()) == head


def test_a_checkpoint_names_only_records_handed_to_kafka() -> None:
    # A crash between linking a record and sending it must not leave a checkpoint that
    # names it: the trail would look cut for ever.
    writer, records = make_audit_chain(2)
    writer.link(make_audit_fact(3))  # linked, not sent
    head = writer.checkpoint(NOW)
    assert head is not None and head.seq == 2
    report = verify_audit(_stored(records), TRUSTED, topic=TOPIC, checkpoints=[head])
    assert report.ok, report.breaks
