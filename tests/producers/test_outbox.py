"""The outbox keeps each record's Kafka timestamp (also in files made before it had one) and
queues a request's records all or none."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from producers.outbox import Outbox, OutboxBusyError, OutboxFullError


def test_a_record_keeps_the_timestamp_it_was_queued_with(tmp_path: Path):
    outbox = Outbox(tmp_path / "o.sqlite3", 10)
    assert outbox.put("a|1", b"MK-RS", b"{}", 1_795_694_340_376)
    assert outbox.put("a|2", b"MK-RS", b"{}")
    assert [e.timestamp_ms for e in outbox.peek(10)] == [1_795_694_340_376, None]


def test_an_outbox_file_from_before_timestamps_is_upgraded_and_keeps_its_records(tmp_path: Path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_key TEXT NOT NULL "
        "UNIQUE, record_key BLOB NOT NULL, value BLOB NOT NULL, queued_at TEXT NOT NULL)"
    )
    db.execute(
        "INSERT INTO outbox (event_key, record_key, value, queued_at) VALUES (?,?,?,?)",
        ("a|1", b"k", b"v", "2026-11-01T00:00:00+00:00"),
    )
    db.commit()
    db.close()
    outbox = Outbox(path, 10)
    outbox.put("a|2", b"k", b"w", 42)
    assert [(e.event_id, e.value, e.timestamp_ms) for e in outbox.peek(10)] == [
        ("a|1", b"v", None),
        ("a|2", b"w", 42),
    ]


def test_records_queued_together_say_each_whether_it_was_new(tmp_path: Path):
    outbox = Outbox(tmp_path / "o.sqlite3", 10)
    outbox.put("a|1", b"k", b"v")
    rows = [("a|2", b"k", b"w", 7), ("a|1", b"k", b"v", 8), ("a|2", b"k", b"w", 9)]
    assert outbox.put_many(rows) == [True, False, False]
    assert [(e.event_id, e.timestamp_ms) for e in outbox.peek(10)] == [("a|1", None), ("a|2", 7)]


def test_records_that_would_not_all_fit_are_none_of_them_queued(tmp_path: Path):
    outbox = Outbox(tmp_path / "o.sqlite3", 3)
    outbox.put("a|1", b"k", b"v")
    with pytest.raises(OutboxFullError, match="holds 1 events; 3 more would pass the limit of 3"):
        outbox.put_many([(f"a|{i}", b"k", b"v", None) for i in range(2, 5)])
    assert outbox.backlog() == 1
    assert outbox.put_many([(f"a|{i}", b"k", b"v", None) for i in range(2, 4)]) == [True, True]


def test_one_process_sends_from_an_outbox_and_a_second_is_told_which_setting_to_change(
    tmp_path: Path,
):
    first = Outbox(tmp_path / "gateway.sqlite3", 10)
    first.claim("WBX_GATEWAY_OUTBOX_DIR")
    first.claim("WBX_GATEWAY_OUTBOX_DIR")  # claiming again is harmless
    second = Outbox(tmp_path / "gateway.sqlite3", 10)
    with pytest.raises(OutboxBusyError, match=rf"pid {os.getpid()}\).*WBX_GATEWAY_OUTBOX_DIR"):
        second.claim("WBX_GATEWAY_OUTBOX_DIR")
    first.close()  # a stopped (or dead) sender gives it up
    second.claim("WBX_GATEWAY_OUTBOX_DIR")
