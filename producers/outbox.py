"""Store-and-forward outbox: a durable SQLite (WAL) queue per agency.

Every event is written here before anything is sent and removed only after the broker
acknowledged it, so a broken link or a crash loses nothing. The event id is the primary
identity: putting the same event twice keeps one row, and a resend after a crash carries the
same id, which the Verify stage recognises.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from schemas.claims import claim_holder, try_claim
from schemas.errors import WbxError


class OutboxFullError(WbxError):
    """The outbox holds its maximum number of events; publishing must wait for it to drain."""


class OutboxBusyError(WbxError):
    """Another process already sends from this outbox: two would send everything twice."""


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One queued record."""

    seq: int
    event_id: str
    key: bytes
    value: bytes
    timestamp_ms: int | None = None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_key TEXT NOT NULL UNIQUE,
    record_key BLOB NOT NULL,
    value BLOB NOT NULL,
    queued_at TEXT NOT NULL,
    timestamp_ms INTEGER
)
"""


class Outbox:
    """A bounded, ordered, durable queue of signed records for one agency."""

    def __init__(self, path: Path, max_events: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_events = max_events
        self._lock = threading.Lock()
        self._claim: TextIO | None = None
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a row acknowledged to the caller survives a power cut, not only a crash.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(outbox)")}
        if "timestamp_ms" not in columns:  # an outbox file from before record timestamps
            self._db.execute("ALTER TABLE outbox ADD COLUMN timestamp_ms INTEGER")

    @classmethod
    def for_agency(cls, directory: Path, agency: str, max_events: int) -> Outbox:
        """The outbox file of one agency (`<dir>/<AGENCY>.sqlite3`)."""
        return cls(directory / f"{agency}.sqlite3", max_events)

    def put(
        self, event_key: str, key: bytes, value: bytes, timestamp_ms: int | None = None
    ) -> bool:
        """Queue a record; False if the same event is already queued. Raises when full.

        `timestamp_ms` is the Kafka record timestamp to send it with (the gateway's receipt
        time); None lets the producer stamp it when it is sent.
        """
        return self.put_many([(event_key, key, value, timestamp_ms)])[0]

    def put_many(self, rows: list[tuple[str, bytes, bytes, int | None]]) -> list[bool]:
        """Queue records (event key, record key, value, timestamp) in one transaction, so one
        sync to disk for all of them; for each, False if that event was already queued.
        Raises, queueing none, when they would not all fit."""
        if not rows:
            return []
        with self._lock:
            count = self._count()
            if count + len(rows) > self.max_events:
                raise OutboxFullError(
                    f"outbox {self.path} holds {count} events; {len(rows)} more would pass "
                    f"the limit of {self.max_events}: the broker has been unreachable, wait "
                    "for it to drain or raise WBX_PUBLISHER_OUTBOX_MAX_EVENTS"
                )
            now = datetime.now(UTC).isoformat()
            new = []
            self._db.execute("BEGIN")
            try:
                for event_key, key, value, timestamp_ms in rows:
                    cursor = self._db.execute(
                        "INSERT OR IGNORE INTO outbox (event_key, record_key, value, queued_at, "
                        "timestamp_ms) VALUES (?, ?, ?, ?, ?)",
                        (event_key, key, value, now, timestamp_ms),
                    )
                    new.append(cursor.rowcount == 1)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return new

    def peek(self, limit: int) -> list[OutboxEntry]:
        """The oldest queued records, in order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, event_key, record_key, value, timestamp_ms FROM outbox "
                "ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            OutboxEntry(int(s), str(e), bytes(k), bytes(v), None if t is None else int(t))
            for s, e, k, v, t in rows
        ]

    def remove(self, seqs: list[int]) -> None:
        """Delete records the broker acknowledged."""
        if not seqs:
            return
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])
            self._db.execute("COMMIT")

    def backlog(self) -> int:
        """How many records wait to be sent."""
        with self._lock:
            return self._count()

    def claim(self, setting: str) -> None:
        """Make this process the outbox's only sender, or raise OutboxBusyError naming the
        process that is and `setting` (which gives each its own outbox).

        An advisory lock on `<file>.lock`, held until `close` (the system drops it when the
        process dies, so a crash never leaves the outbox claimed)."""
        if self._claim is not None:
            return
        lock = self.path.with_name(self.path.name + ".lock")
        handle = try_claim(lock)
        if handle is None:
            raise OutboxBusyError(
                f"the outbox {self.path} is already used by another process "
                f"(pid {claim_holder(lock)}) on this host: give each its own directory "
                f"with {setting}"
            )
        self._claim = handle

    def close(self) -> None:
        """Close the database (the file stays for the next run) and give up a claim."""
        with self._lock:
            self._db.close()
        if self._claim is not None:
            self._claim.close()
            self._claim = None

    def _count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
