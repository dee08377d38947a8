"""Route stage: each alert rule, its near miss, routing to PCCs, merging, determinism."""

from __future__ import annotations

import typing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from consumers.route import Router, seal_alert
from consumers.rules import KINDS, RuleConfig, evaluator_for, load_rules
from schemas.derived import utc_day
from schemas.errors import ConfigurationError
from schemas.reference import load_reference
from schemas.settings import ContractSettings
from schemas.shredding import FileKeyStore, Shredder, is_sealed_value
from tests.factories import make_alert, shared_record

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
RULES = load_rules(Path(__file__).resolve().parents[2] / "infra" / "alert_rules.toml")
REFERENCE = load_reference(ContractSettings().reference_file)


def record(kind, data, **kw):
    return shared_record(kind, data, **{"time": NOW, **kw})


def child(doc="psn:k:aa", flags=("uam",)):
    return {
        "nationality": "AFG",
        "sex": "male",
        "age_band": "14-17",
        "child": True,
        "vulnerabilities": list(flags),
        "document_number": doc,
    }


def group(n, **kw):
    return record(
        "apprehension",
        {"direction": "entry", "group_size": n, "persons": [{"nationality": "SYR", "sex": "male"}]},
        **kw,
    )


def rules_fired(router, rec):
    return [(a.rule, a.pcc) for a in router.process(rec)]


def test_uam_at_a_trebinje_section_alerts_trebinje_only_once():
    router = Router(RULES, REFERENCE)
    alerts = router.process(record("vulnerability_identified", {"person": child()}))
    assert [(a.rule, a.pcc, a.severity.value, a.status.value) for a in alerts] == [
        ("protection_child_or_vot", "pcc-trebinje", "high", "open")
    ]


def test_each_listed_event_carries_its_own_handling_purpose_grading_and_retention():
    router = Router(RULES, REFERENCE)
    rec = record("vulnerability_identified", {"person": child()})
    (alert,) = router.process(rec)
    (event,) = alert.events
    assert (event.handling, event.purpose, event.reliability, event.accuracy) == (
        rec.handling,
        rec.purpose,
        rec.reliability,
        rec.accuracy,
    )
    assert event.retain_until == rec.retain_until
    assert event.summary["pseudonyms"]  # the document number, pseudonymised, never in clear
    assert "document_number" not in event.summary


def test_section_no_pcc_covers_gives_no_alert_but_is_counted():
    router = Router(RULES, REFERENCE)
    assert (
        router.process(record("vulnerability_identified", {"person": child()}, section="MK-RS"))
        == []
    )
    assert router.take_unrouted() == {"protection_child_or_vot": 1}
    assert router.take_unrouted() == {}  # counted once, then handed to the metric


def test_adult_without_flags_does_not_alert():
    router = Router(RULES, REFERENCE)
    assert (
        rules_fired(
            router, record("vulnerability_identified", {"person": child(flags=("disability",))})
        )
        == []
    )


def test_death_is_critical_and_follow_ups_naming_the_incident_merge():
    router = Router(RULES, REFERENCE)
    first = router.process(
        record(
            "death_or_missing_person",
            {"count": 1},
            section="AL-ME",
            incident=None,
            event_id="11111111-1111-4111-8111-111111111111",
        )
    )
    assert [(a.rule, a.severity.value, a.pcc) for a in first] == [
        ("death_or_missing", "critical", "pcc-plav")
    ]
    cause = "11111111-1111-4111-8111-111111111111"  # wbxincident names the first event
    follow = router.process(
        record(
            "death_or_missing_person",
            {"count": 2},
            section="AL-ME",
            time=NOW + timedelta(hours=1),
            incident=cause,
        )
    )
    assert [(a.id, a.revision) for a in follow] == [(first[0].id, 2)]
    again = router.process(
        record(
            "death_or_missing_person",
            {"count": 2},
            section="AL-ME",
            time=NOW + timedelta(hours=2),
            incident=cause,
        )
    )
    assert (again[0].id, again[0].revision, again[0].event_count) == (first[0].id, 3, 3)
    other = router.process(record("death_or_missing_person", {"count": 1}, section="AL-ME"))
    assert other[0].id != first[0].id


def test_smuggling_with_a_vehicle_alerts_and_without_one_does_not():
    router = Router(RULES, REFERENCE)
    base = {"persons_smuggled": 8, "facilitators": [], "heading_to": "HR"}
    assert rules_fired(router, record("migrant_smuggling", base)) == []
    assert rules_fired(
        router, record("migrant_smuggling", {**base, "vehicle_plate": "psn:k:cc"})
    ) == [("smuggling_vehicle", "pcc-trebinje")]


def test_large_group_at_thirty_not_at_twenty_nine():
    router = Router(RULES, REFERENCE)
    assert "large_group" not in {r for r, _ in rules_fired(router, group(29))}
    assert "large_group" in {
        r for r, _ in rules_fired(router, group(30, time=NOW + timedelta(days=1)))
    }


def test_surge_fires_above_three_times_the_trailing_rate_not_at_it():
    router = Router(RULES, REFERENCE)
    # Baseline: 28 persons per 6 h slot over the trailing week -> rate 28 per 6 h.
    for hour in range(0, 7 * 24, 6):
        router.process(
            group(28, time=NOW - timedelta(days=7, hours=6, minutes=-1) + timedelta(hours=hour))
        )
    fired = [r for r, _ in rules_fired(router, group(28 * 3, time=NOW))]
    assert "surge" not in fired  # exactly 3x is not above 3x
    assert "surge" in [r for r, _ in rules_fired(router, group(5, time=NOW + timedelta(minutes=1)))]


def test_secondary_movement_across_participants_within_72_hours():
    router = Router(RULES, REFERENCE)
    seen_in_ba = record(
        "apprehension", {"direction": "entry", "group_size": 1, "persons": [child(flags=())]}
    )
    router.process(seen_in_ba)
    same_participant = record(
        "apprehension",
        {"direction": "entry", "group_size": 1, "persons": [child(flags=())]},
        time=NOW + timedelta(hours=5),
    )
    assert "secondary_movement" not in {r for r, _ in rules_fired(router, same_participant)}
    in_me = record(
        "apprehension",
        {"direction": "entry", "group_size": 1, "persons": [child(flags=())]},
        agency="ME-BP",
        section="ME-RS",
        time=NOW + timedelta(hours=48),
    )
    alerts = [a for a in router.process(in_me) if a.rule == "secondary_movement"]
    assert [a.pcc for a in alerts] == ["pcc-trebinje"]
    assert len(alerts[0].events) == 2


def test_secondary_movement_after_73_hours_does_not_fire():
    router = Router(RULES, REFERENCE)
    router.process(
        record(
            "apprehension", {"direction": "entry", "group_size": 1, "persons": [child(flags=())]}
        )
    )
    late = record(
        "apprehension",
        {"direction": "entry", "group_size": 1, "persons": [child(flags=())]},
        agency="ME-BP",
        section="ME-RS",
        time=NOW + timedelta(hours=73),
    )
    assert "secondary_movement" not in {r for r, _ in rules_fired(router, late)}


def test_same_cause_merges_into_a_revision_and_a_redelivery_says_nothing():
    router = Router(RULES, REFERENCE)
    first = router.process(record("vulnerability_identified", {"person": child()}))[0]
    second_record = record(
        "vulnerability_identified", {"person": child()}, time=NOW + timedelta(hours=1)
    )
    second = router.process(second_record)[0]
    assert (second.id, second.revision, len(second.events)) == (first.id, 2, 2)
    assert router.process(second_record) == []


def test_replaying_the_same_records_gives_the_same_alerts():
    records = [
        record(
            "vulnerability_identified",
            {"person": child(doc=f"psn:k:{i}")},
            time=NOW + timedelta(minutes=i),
        )
        for i in range(5)
    ] + [group(40)]
    runs = []
    for _ in range(2):
        router = Router(RULES, REFERENCE)
        runs.append([(a.id, a.revision) for r in records for a in router.process(r)])
    assert runs[0] == runs[1] and runs[0]


def test_state_stays_bounded():
    router = Router(RULES, REFERENCE)
    for i in range(2000):
        router.process(
            record(
                "apprehension",
                {
                    "direction": "entry",
                    "group_size": 1,
                    "persons": [child(doc=f"psn:k:{i}", flags=())],
                },
                time=NOW + timedelta(hours=i),
            )
        )
    assert router.state_size() < 400


def test_a_bad_rules_file_names_the_file(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(
        '[[rules]]\nid = "x"\nkind = "nonsense"\ndescription = "d"\nseverity = "high"\n'
    )
    with pytest.raises(ConfigurationError, match=str(path)):
        load_rules(path)


def test_every_rule_kind_is_in_the_table_with_its_evaluator():
    union = typing.get_args(typing.get_args(RuleConfig)[0])
    assert set(union) == set(KINDS)
    for rule in RULES:
        evaluator = evaluator_for(rule)
        assert evaluator.size() == 0
        evaluator.evict(NOW)


def test_pseudonyms_and_plates_are_sealed_and_the_rest_stays_readable(tmp_path: Path) -> None:
    shredder = Shredder(FileKeyStore(tmp_path))
    alert = make_alert(now=NOW)
    event = alert.events[0].model_copy(
        update={
            "retain_until": NOW + timedelta(days=3),
            "summary": {**alert.events[0].summary, "vehicle": "psn:k1:77", "group_size": 4},
        }
    )
    alert = alert.model_copy(update={"events": [event]})
    sealed = seal_alert(alert, shredder, utc_day(NOW))
    summary = sealed.events[0].summary
    assert is_sealed_value(summary["pseudonyms"]) and is_sealed_value(summary["vehicle"])
    assert summary["group_size"] == 4 and summary["vulnerabilities"] == ["uam"]
    assert "psn:" not in sealed.model_dump_json()
    assert shredder.open_tree(summary, utc_day(NOW)) == event.summary
    # Past the event's deadline day its identifying facts are gone, the rest is not.
    later = utc_day(NOW + timedelta(days=4))
    assert shredder.open_tree(summary, later) == {"group_size": 4, "vulnerabilities": ["uam"]}
