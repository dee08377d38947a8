"""`wbx stats audit`: the attacks find a leak in exact publication and none in WBX's."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from consumers.aggregate import StatsState
from consumers.protect import load_policy, protect
from consumers.pseudonyms import Pseudonymiser
from consumers.settings import WorkerSettings
from producers.simulate import SimKeys, Simulator
from schemas.derived import StatCell
from schemas.disclosure import PerturbationTable, PTableFile
from schemas.envelope import Envelope
from tests.factories import PTABLE, record_key_of, shared_record
from wbx.cli import cli
from wbx.stats_audit import audit

EXACT = PerturbationTable(
    PTableFile(
        small=5, max_noise=0, rows=[{"count": 5, "outcomes": [{"noise": 0, "probability": 1}]}]
    )
)
"""A table with no noise: 1-4 hidden, the rest exact (how WBX published before)."""
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 20, tzinfo=UTC)


def attack_week(ptable: PerturbationTable) -> list[StatCell]:
    """The week of issue 12 (3 AFG on Wednesday, 10 on each other day), every update kept."""
    state = StatsState(ptable, lateness=timedelta(days=30))
    published: list[StatCell] = []
    for day in range(7):
        for n in range(3 if day == 2 else 10):
            event_id = f"attack-{day}-{n}"
            person = {"nationality": "AFG", "sex": "male", "age_band": "18-34"}
            rec = shared_record(
                "apprehension",
                {"direction": "entry", "group_size": 1, "persons": [person]},
                time=MONDAY + timedelta(days=day, minutes=n),
                event_id=event_id,
            )
            state.add(rec.model_copy(update={"record_key": record_key_of(event_id)}), LATER)
            published += state.flush(LATER)  # fmt: skip
    return published


def test_the_audit_pins_the_3_when_the_week_and_its_days_are_exact():
    report = audit(attack_week(EXACT), EXACT)
    pinned = [p for t in report.tables for p in t.pinned]
    assert "day|2026-11-25|persons|nationality|AFG = 3" in pinned
    assert report.leaks > 0


def test_the_same_week_protected_by_the_cell_key_method_leaks_nothing():
    cells = attack_week(PTABLE)
    report = audit(cells, PTABLE)
    assert report.leaks == 0, [(t.name, t.pinned, t.pinned_increments) for t in report.tables]
    assert report.infeasible == []
    assert all(c.count is None or c.count == 0 or c.count >= 5 for c in cells)


def test_a_published_week_of_simulator_traffic_leaks_nothing(tmp_path: Path):
    keys = SimKeys.load_or_create(tmp_path / "sim-keys")
    simulator = Simulator(7, MONDAY, keys, bad_share=0.0, per_hour=6)
    policy = load_policy(WorkerSettings().policy_file)
    pseudonymiser = Pseudonymiser(b"audit-test-secret-0123456789", "k1")
    state = StatsState(PTABLE, lateness=timedelta(days=30))
    published: list[StatCell] = []
    now = MONDAY
    for n, sim in enumerate(simulator.records(until=MONDAY + timedelta(days=7))):
        envelope = Envelope.model_validate(json.loads(sim.value))
        now = max(now, envelope.time)
        protected = protect(envelope, "0" * 64, policy, pseudonymiser, now=now)
        assert protected is not None
        state.add(protected.shared, now)
        if n % 10 == 0:
            published += state.flush(now)  # the live updates an analyst could poll
    published += state.flush(MONDAY + timedelta(days=8))
    assert len(published) > 1_000
    # No value of 1-4 in any table or any update.
    assert all(c.count is None or c.count == 0 or c.count >= 5 for c in published)
    export = tmp_path / "week.jsonl"
    export.write_text("".join(c.model_dump_json() + "\n" for c in published))
    result = CliRunner().invoke(cli, ["stats", "audit", "--file", str(export)])
    assert result.exit_code == 0, result.output
    assert "cells or increments pinned to 1-4: 0" in result.output
    assert "persons by nationality" in result.output and "utility: mean |noise|" in result.output
