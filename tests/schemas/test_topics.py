"""The topic plan file: expansion per PCC, exactly the known names, errors that point home."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from schemas.errors import ConfigurationError
from schemas.topics import (
    ALERT_ACKS,
    AUDIT,
    INGEST,
    KEYS,
    REQUIRED,
    STATS,
    VERIFIED,
    TopicPlanError,
    alerts_topic,
    load_topic_plan,
    receipts_topic,
)

REPO = Path(__file__).resolve().parents[2]
PLAN = REPO / "infra" / "topics.toml"
PCCS = ["pcc-trebinje", "pcc-plav"]
AGENCIES = ["RS-BP", "BA-BP"]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "[" + ", ".join(_toml_value(v) for v in value) + "]"


def _write_plan(path: Path, topics: list[dict[str, Any]]) -> Path:
    """Write a plan file (flat tables only, which is all the plan has)."""
    blocks = [
        "[[topics]]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in entry.items())
        for entry in topics
    ]
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def _entries() -> list[dict[str, Any]]:
    return list(tomllib.loads(PLAN.read_text(encoding="utf-8"))["topics"])


def _index(entries: list[dict[str, Any]], name: str) -> int:
    return next(i for i, e in enumerate(entries) if e["name"] == name)


def test_plan_expands_one_alerts_topic_per_pcc() -> None:
    specs = load_topic_plan(PLAN, PCCS, AGENCIES)
    names = [s.name for s in specs]
    assert "wbx.alerts.pcc-trebinje.v1" in names
    assert "wbx.alerts.pcc-plav.v1" in names
    assert not any("{" in n for n in names)
    assert not any(s.per_pcc for s in specs)
    assert len(names) == len(set(names))


def test_plan_declares_exactly_the_named_constants() -> None:
    names = {s.name for s in load_topic_plan(PLAN, PCCS, AGENCIES)}
    alerts = {alerts_topic(p) for p in PCCS}
    assert names == {*REQUIRED, *alerts, *(receipts_topic(a) for a in AGENCIES)}


def test_plan_expands_one_receipts_topic_per_agency_only_its_publisher_reads() -> None:
    specs = {s.name: s for s in load_topic_plan(PLAN, PCCS, AGENCIES)}
    assert receipts_topic("RS-BP") == "wbx.receipts.rs-bp.v1"
    for agency in AGENCIES:
        spec = specs[receipts_topic(agency)]
        assert spec.writers == ["worker"] and "publisher" in spec.readers
        assert not spec.per_agency
    with pytest.raises(TopicPlanError, match="cannot be part of a topic name"):
        receipts_topic("rs bp")


def test_plan_values_that_other_code_relies_on() -> None:
    specs = {s.name: s for s in load_topic_plan(PLAN, PCCS, AGENCIES)}
    assert specs[STATS].cleanup_policy == "compact"
    assert specs[INGEST].partitions == 6 and specs[VERIFIED].partitions == 6
    assert specs[AUDIT].retention_ms >= 400 * 24 * 3600 * 1000
    assert "gateway" in specs[ALERT_ACKS].writers
    assert specs[INGEST].configs() == {
        "retention.ms": "604800000",
        "cleanup.policy": "delete",
        "message.timestamp.type": "LogAppendTime",  # the trusted receipt time of key checks
    }
    assert specs[KEYS].cleanup_policy == "compact" and specs[KEYS].writers == ["admin"]


def test_plan_without_pccs_has_no_alert_topics() -> None:
    names = [s.name for s in load_topic_plan(PLAN, [], [])]
    assert not any(n.startswith("wbx.alerts.") for n in names)


def test_plan_missing_a_required_topic_is_rejected(tmp_path: Path) -> None:
    entries = _entries()
    del entries[_index(entries, AUDIT)]
    path = _write_plan(tmp_path / "topics.toml", entries)
    with pytest.raises(TopicPlanError, match=AUDIT) as caught:
        load_topic_plan(path, PCCS, AGENCIES)
    assert str(path) in str(caught.value)


def test_plan_missing_the_per_pcc_entry_is_rejected(tmp_path: Path) -> None:
    entries = [e for e in _entries() if not e.get("per_pcc")]
    path = _write_plan(tmp_path / "topics.toml", entries)
    with pytest.raises(TopicPlanError, match=r"per-PCC entry 'wbx\.alerts\.\{pcc\}\.v1'"):
        load_topic_plan(path, PCCS, AGENCIES)


def test_plan_missing_the_per_agency_entry_is_rejected(tmp_path: Path) -> None:
    entries = [e for e in _entries() if not e.get("per_agency")]
    path = _write_plan(tmp_path / "topics.toml", entries)
    with pytest.raises(TopicPlanError, match=r"per-agency entry 'wbx\.receipts\.\{agency\}"):
        load_topic_plan(path, PCCS, AGENCIES)


def test_plan_with_an_unknown_topic_is_rejected(tmp_path: Path) -> None:
    entries = _entries()
    entries.append({**entries[0], "name": "wbx.surprise.v1"})
    path = _write_plan(tmp_path / "topics.toml", entries)
    with pytest.raises(TopicPlanError, match=r"wbx\.surprise\.v1 have no name constant"):
        load_topic_plan(path, PCCS, AGENCIES)


def test_plan_declaring_a_topic_twice_is_rejected(tmp_path: Path) -> None:
    entries = _entries()
    entries.append(dict(entries[_index(entries, INGEST)]))
    path = _write_plan(tmp_path / "topics.toml", entries)
    with pytest.raises(TopicPlanError, match=rf"declared twice: {INGEST}"):
        load_topic_plan(path, PCCS, AGENCIES)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("partitions", 0, r"\.partitions: Input should be greater than or equal to 1"),
        ("cleanup_policy", "shred", r"\.cleanup_policy: Input should be 'delete' or 'compact'"),
        ("retention_days", 7, r"\.retention_days: Extra inputs are not permitted"),
        ("writers", [], r"\.writers: List should have at least 1 item"),
        ("name", "wbx.verified.{pcc}.v1", r": '\{pcc\}' or '\{agency\}' in a name needs per_pcc"),
        ("per_agency", True, r"the only per-agency topic is 'wbx\.receipts\.\{agency\}\.v1'"),
    ],
)
def test_bad_field_names_the_file_and_the_entry(
    tmp_path: Path, field: str, value: object, message: str
) -> None:
    entries = _entries()
    index = _index(entries, VERIFIED)
    entries[index][field] = value
    path = _write_plan(tmp_path / "topics.toml", entries)
    with pytest.raises(TopicPlanError) as caught:
        load_topic_plan(path, PCCS, AGENCIES)
    text = str(caught.value)
    assert text.startswith(f"{path}: topics[{index}] (")
    assert re.search(message, text), text


def test_unreadable_plans_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[[topics]\nname = ", encoding="utf-8")
    with pytest.raises(TopicPlanError, match=rf"{broken}: not valid TOML"):
        load_topic_plan(broken, PCCS, AGENCIES)
    with pytest.raises(ConfigurationError, match="not found"):
        load_topic_plan(tmp_path / "absent.toml", PCCS, AGENCIES)


def test_alerts_topic_refuses_ids_that_break_topic_names() -> None:
    assert alerts_topic("pcc-plav") == "wbx.alerts.pcc-plav.v1"
    with pytest.raises(TopicPlanError):
        alerts_topic("pcc plav/../x")


def test_topics_module_imports_no_runtime_component() -> None:
    code = (
        "import sys, schemas.topics\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'producers', 'consumers', 'gateway', 'wbx', 'faust', 'aiokafka'})\n"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""
