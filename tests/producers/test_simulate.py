"""The simulator: deterministic for a seed, realistic, and its bad records fail as labelled."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from producers.simulate import SimKeys, Simulator
from schemas.keys import KeyRegistry
from schemas.reference import load_reference
from schemas.settings import ContractSettings
from schemas.verification import Verifier
from wbx.cli import cli

START = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> SimKeys:
    return SimKeys.load_or_create(tmp_path_factory.mktemp("sim-keys"))


def _run(keys: SimKeys, seed: int, count: int, bad_share: float = 0.02):
    return list(Simulator(seed, START, keys, bad_share=bad_share).records(count))


def test_same_seed_same_keys_same_start_gives_identical_records(keys):
    assert [r.value for r in _run(keys, 3, 300)] == [r.value for r in _run(keys, 3, 300)]
    assert [r.value for r in _run(keys, 3, 50)] != [r.value for r in _run(keys, 4, 50)]


def test_keys_are_reused_from_the_folder(keys):
    again = SimKeys.load_or_create(keys.registry_path.parent)
    assert {a: k for a, (_, k) in again.keys.items()} == {a: k for a, (_, k) in keys.keys.items()}


def test_every_record_verifies_exactly_as_labelled(keys):
    records = _run(keys, 11, 1500, bad_share=0.1)
    verifier = Verifier(
        KeyRegistry.load(keys.registry_path),
        load_reference(ContractSettings().reference_file),
        max_age=timedelta(days=3650),
        clock=lambda: START + timedelta(days=60),
    )
    outcomes = Counter()
    for record in records:
        verdict = verifier.verify_bytes(record.value)
        assert verdict.reason.value == record.expected, (record.expected, verdict.detail)
        outcomes[record.expected] += 1
    assert set(outcomes) == {"ok", "bad_signature", "unknown_key", "schema_invalid"}
    assert 0.06 < 1 - outcomes["ok"] / len(records) < 0.14


def test_traffic_looks_like_the_route(keys):
    envelopes = [json.loads(r.value) for r in _run(keys, 5, 4000, bad_share=0.0)]
    kinds = Counter(e["type"].rsplit(".", 1)[1] for e in envelopes)
    assert kinds.most_common(1)[0][0] == "apprehension"
    assert len({e["source"] for e in envelopes}) >= 10
    persons = [p for e in envelopes for p in e["data"].get("persons", [])]
    assert any("uam" in p.get("vulnerabilities", []) for p in persons)
    assert max(e["data"].get("group_size", 0) for e in envelopes) >= 30
    documents: dict[str, set[str]] = {}
    for e in envelopes:
        for p in e["data"].get("persons", []):
            if "document_number" in p:
                documents.setdefault(p["document_number"], set()).add(e["source"][15:17])
    assert any(len(participants) > 1 for participants in documents.values()), (
        "no secondary movement"
    )
    times = [e["time"] for e in envelopes]
    assert times == sorted(times)


def test_cli_output_is_byte_identical_twice(tmp_path: Path):
    runner = CliRunner()
    args = [
        "simulate",
        "--count",
        "200",
        "--seed",
        "9",
        "--start",
        START.isoformat(),
        "--keys-dir",
        str(tmp_path / "k"),
    ]
    runner.invoke(cli, [*args, "--output", str(tmp_path / "a.jsonl")], catch_exceptions=False)
    runner.invoke(cli, [*args, "--output", str(tmp_path / "b.jsonl")], catch_exceptions=False)
    first = (tmp_path / "a.jsonl").read_bytes()
    assert first and first == (tmp_path / "b.jsonl").read_bytes()
    assert len(first.splitlines()) == 200
