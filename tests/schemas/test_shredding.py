"""Crypto-shredding: sealed under the deadline day's key, unreadable once it is destroyed."""

from __future__ import annotations

import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from schemas.errors import ConfigurationError
from schemas.shredding import (
    FileKeyStore,
    SealError,
    ShreddedError,
    Shredder,
    is_sealed_value,
    load_key_store,
)

TODAY = date(2026, 11, 20)
SOON = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 20, 9, 30, tzinfo=UTC)
TOPIC = "wbx.verified.v1"


@pytest.fixture
def shredder(tmp_path: Path) -> Shredder:
    return Shredder(FileKeyStore(tmp_path / "keys"))


def test_a_sealed_record_opens_byte_for_byte_and_reveals_nothing(shredder: Shredder) -> None:
    raw = b'{"id":"e-1","data":{"document_number":"P1234567"}}'
    sealed = shredder.seal_record(raw, SOON, TODAY, TOPIC)
    assert b"P1234567" not in sealed and b'"day":"2026-11-21"' in sealed
    assert shredder.open_record(sealed, TODAY, TOPIC) == raw


def test_a_record_sealed_for_one_topic_does_not_open_as_anothers(shredder: Shredder) -> None:
    sealed = shredder.seal_record(b"{}", SOON, TODAY, TOPIC)
    with pytest.raises(SealError, match="altered"):
        shredder.open_record(sealed, TODAY, "wbx.shared.v1")


def test_an_altered_sealed_record_is_refused(shredder: Shredder) -> None:
    sealed = shredder.seal_record(b'{"id":"e-1"}', SOON, TODAY, TOPIC)
    flipped = sealed.replace(b'","data":"', b'","data":"A', 1)
    with pytest.raises(SealError):
        shredder.open_record(flipped, TODAY, TOPIC)
    with pytest.raises(SealError, match="not a sealed record"):
        shredder.open_record(b'{"id":"e-1"}', TODAY, TOPIC)


def test_once_a_days_key_is_destroyed_its_records_are_gone_and_newer_ones_open(
    shredder: Shredder,
) -> None:
    early = shredder.seal_record(b'{"n":1}', SOON, TODAY, TOPIC)
    late = shredder.seal_record(b'{"n":2}', LATER, TODAY, TOPIC)
    value = shredder.seal_value("psn:dev:abc", SOON, TODAY)
    assert shredder.store.destroy_before(date(2026, 11, 22)) == [date(2026, 11, 21)]
    with pytest.raises(ShreddedError):
        shredder.open_record(early, TODAY, TOPIC)  # even for a reader whose clock lags
    with pytest.raises(ShreddedError):
        shredder.open_value(value, TODAY)
    assert shredder.open_record(late, TODAY, TOPIC) == b'{"n":2}'


def test_every_reader_refuses_a_past_days_key_before_it_is_destroyed(shredder: Shredder) -> None:
    sealed = shredder.seal_record(b"{}", SOON, TODAY, TOPIC)
    assert shredder.store.key(SOON.date()) is not None  # not destroyed yet
    with pytest.raises(ShreddedError):
        shredder.open_record(sealed, date(2026, 11, 22), TOPIC)
    with pytest.raises(ShreddedError, match="has passed"):
        shredder.seal_record(b"{}", SOON, date(2026, 11, 22), TOPIC)


def test_values_seal_in_place_and_the_tree_opens_what_its_keys_still_allow(
    shredder: Shredder,
) -> None:
    kept = shredder.seal_value(["psn:dev:1", "psn:dev:2"], LATER, TODAY)
    gone = shredder.seal_value("psn:dev:3", SOON, TODAY)
    assert is_sealed_value(kept) and "psn:dev:1" not in kept
    tree = {"persons": [{"document_number": gone, "nationality": "SYR"}], "plates": kept}
    shredder.store.destroy_before(date(2026, 11, 22))
    assert shredder.open_tree(tree, TODAY) == {
        "persons": [{"nationality": "SYR"}],
        "plates": ["psn:dev:1", "psn:dev:2"],
    }


def test_the_file_store_keeps_private_keys_made_once_and_overwrites_what_it_destroys(
    tmp_path: Path,
) -> None:
    store = FileKeyStore(tmp_path / "keys")
    store.RECHECK_SECONDS = 0.0  # look at the file on every use
    key = store.create(TODAY)
    again = FileKeyStore(tmp_path / "keys")  # another process
    assert again.create(TODAY) == key and len(key) == 32
    path = tmp_path / "keys" / "2026-11-20.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    store.create(TODAY + timedelta(days=1))
    assert store.days() == [TODAY, TODAY + timedelta(days=1)]
    assert again.destroy_before(TODAY + timedelta(days=1)) == [TODAY]
    assert not path.exists() and again.key(TODAY) is None
    assert store.key(TODAY) is None  # the first process's cache does not outlive the file
    kept = FileKeyStore(tmp_path / "keys")
    tomorrow = kept.create(TODAY + timedelta(days=1))
    again.destroy_before(TODAY + timedelta(days=2))
    assert kept.key(TODAY + timedelta(days=1)) == tomorrow  # within the recheck interval
    kept.RECHECK_SECONDS = 0.0
    assert kept.key(TODAY + timedelta(days=1)) is None


def test_another_key_store_is_named_by_module_and_class(tmp_path: Path) -> None:
    store = load_key_store("schemas.shredding:FileKeyStore", tmp_path)
    assert isinstance(store, FileKeyStore) and store.directory == tmp_path
    with pytest.raises(ConfigurationError, match="WBX_RETENTION_KEY_STORE"):
        load_key_store("no.such.module:Vault", tmp_path)
