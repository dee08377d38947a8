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
from gateway.api.models import StatsOut
from gateway.views import StatsView, TableQuery
from producers.simulate import SimKeys, Simulator
from schemas.derived import Dimension, Measure, Period, StatCell
from schemas.disclosure import PerturbationTable, PTableFile, protection_statement
from schemas.envelope import Envelope
from tests.factories import PTABLE, fine_cell, record_key_of, shared_record
from wbx.cli import cli
from wbx.stats_audit import Seen, audit, read_export

NO_NOISE = PerturbationTable(
    PTableFile(
        small=5,
        max_noise=0,
        rows=[
            *PTABLE.spec.rows[:4],  # 1-4 published as 0 or 5, as WBX does
            {"count": 5, "outcomes": [{"noise": 0, "probability": 1}]},  # and 5+ exact
        ],
    )
)
"""WBX's table without its noise on counts of 5 and more: differencing finds small counts."""
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


def test_the_audit_pins_the_3_when_the_week_and_its_days_have_no_noise():
    report = audit(attack_week(NO_NOISE), NO_NOISE)
    pinned = [p for t in report.tables for p in t.pinned]
    # Shown as 5 or left out (published 0): the week minus the six other days finds it.
    assert any("2026-11-25" in p and "persons|nationality|AFG" in p and p.endswith(" = 3")
               for p in pinned), pinned  # fmt: skip
    assert report.leaks > 0


def test_the_same_week_protected_by_the_cell_key_method_leaks_nothing():
    cells = attack_week(PTABLE)
    report = audit(cells, PTABLE)
    assert report.leaks == 0, [(t.name, t.pinned, t.pinned_increments) for t in report.tables]
    assert report.infeasible == []
    assert all(not 0 < c.count < 5 for c in cells)


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
    assert all(not 0 < c.count < 5 for c in published)
    export = tmp_path / "week.jsonl"
    export.write_text("".join(c.model_dump_json() + "\n" for c in published))
    result = CliRunner().invoke(cli, ["stats", "audit", "--file", str(export)])
    assert result.exit_code == 0, result.output
    assert "cells or increments pinned to 1-4: 0" in result.output
    assert "persons by nationality" in result.output and "utility: mean |noise|" in result.output
    # The gateway's cross-tables of the same week, as an analyst saves them from /v1/stats.
    view = StatsView(PTABLE)
    for fine in state.take_fine():
        view.apply_fine(fine)
    crossed = (Dimension.BORDER_SECTION, Dimension.NATIONALITY, Dimension.SEX)
    # Two days (each audit's programs grow with its table) and the whole week.
    monday, tuesday = MONDAY.date(), MONDAY.date() + timedelta(days=1)
    for n, period in enumerate((Period.DAY, Period.WEEK)):
        query = TableQuery(period, Measure.PERSONS, crossed, start=monday, end=tuesday)
        cells = view.table(query, LATER)
        assert any(c.count == 5 for c in cells) and len(cells) > 50
        names = [d.value for d in crossed]
        body = StatsOut(period=period.value, measure="persons", group_by=names, filters={},
                        protection=protection_statement(PTABLE), cells=cells)  # fmt: skip
        saved = tmp_path / f"crossed-{n}.json"
        saved.write_text(body.model_dump_json())  # as /v1/stats answers
        result = CliRunner().invoke(cli, ["stats", "audit", "--file", str(saved)])
        assert result.exit_code == 0, result.output
        assert "persons by border_section x nationality x sex" in result.output
        assert "cells or increments pinned to 1-4: 0" in result.output


def _crossed(ptable: PerturbationTable) -> list[Seen]:
    """Section x nationality on one day: AFG 3 and SYR 10 at MK-RS, its margins."""
    view = StatsView(ptable)
    day = MONDAY.date()
    view.apply_fine(fine_cell(day, 3, section="MK-RS", nationality="AFG"))
    view.apply_fine(fine_cell(day, 10, section="MK-RS", nationality="SYR"))
    view.apply_fine(fine_cell(day, 8, section="BA-RS", nationality="SYR"))
    by = (Dimension.BORDER_SECTION, Dimension.NATIONALITY)
    cells = view.table(TableQuery(by=by), LATER)
    return [Seen.of_table(c, by, frozenset()) for c in cells]


def test_the_audit_pins_a_hidden_cell_of_a_cross_table_from_its_margin():
    pinned = [p for t in audit(_crossed(NO_NOISE), NO_NOISE).tables for p in t.pinned]
    assert any(p.endswith("border_section=MK-RS|nationality=AFG = 3") for p in pinned), pinned
    assert audit(_crossed(PTABLE), PTABLE).leaks == 0


def test_a_csv_export_is_read_back_and_a_bad_one_is_named(tmp_path: Path):
    by = (Dimension.BORDER_SECTION, Dimension.NATIONALITY)
    cells = StatsView(NO_NOISE)
    cells.days = {}
    saved = tmp_path / "table.csv"
    rows = [c for c in _crossed(NO_NOISE)]
    header = (
        "period,window_start,window_end,measure,border_section,nationality,count,display,status"
    )
    lines = [header] + [
        f"day,{c.start},{c.start + timedelta(days=1)},persons,{c.values[0]},{c.values[1]},"
        f"{c.count},{c.display},final"
        for c in rows
    ]
    saved.write_text("\n".join(lines) + "\n\nEvery figure is protected ...\n")
    back = list(read_export(saved))
    assert [(c.values, c.display) for c in back] == [(c.values, c.display) for c in rows]
    assert back[0].by == by
    bad = tmp_path / "bad.csv"
    good = "day,2026-11-23,2026-11-24,persons,MK-RS,AFG,5,5,final\n"
    for line, words in [("day,20.11.2026,2026-11-24,persons,MK-RS,AFG,5,5,final", "20.11.2026"),
                        ("day,2026-11-23,2026-11-24,persons,MK-RS,AFG,<5,<5,final",
                         "count '<5' is not a whole number")]:  # fmt: skip
        bad.write_text(f"{header}\n{good}{line}\n")
        result = CliRunner().invoke(cli, ["stats", "audit", "--file", str(bad)])
        assert result.exit_code == 1, result.output
        assert "bad.csv, line 3" in result.output and words in result.output, result.output
