"""The topic plan rendered for Apache Kafka matches the plan: every topic, every reader and
writer, nothing more; each agency, PCC and role confined to what the plan gives it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml
from click.testing import CliRunner

from schemas.reference import load_reference
from schemas.settings import ContractSettings
from schemas.topics import INGEST, KEYS, STATS, alerts_topic, load_topic_plan, receipts_topic
from wbx.cli import cli
from wbx.render import acls, kafka_cli, strimzi_documents

REPO = Path(__file__).resolve().parents[2]
REFERENCE = load_reference(ContractSettings().reference_file)
PCCS = sorted(REFERENCE.pccs)
AGENCIES = sorted(REFERENCE.agencies)
SPECS = load_topic_plan(REPO / "infra" / "topics.toml", PCCS, AGENCIES)


def _expected_pairs() -> set[tuple[str, str, str]]:
    """(principal, operation, topic) straight from the plan's readers and writers."""
    pairs = set()
    for spec in SPECS:
        for operation, roles in (("Write", spec.writers), ("Read", spec.readers)):
            for role in roles:
                if role == "publisher":
                    own = [a for a in AGENCIES if receipts_topic(a) == spec.name]
                    names = [f"wbx-publisher-{a.lower()}" for a in own or AGENCIES]
                elif role == "pcc_operator":
                    names = [f"wbx-{p}" for p in PCCS if alerts_topic(p) == spec.name]
                else:
                    names = [f"wbx-{role.replace('_', '-')}"]
                pairs |= {(name, operation, spec.name) for name in names}
    return pairs


def _users() -> dict[str, list[dict]]:
    docs = strimzi_documents(SPECS, AGENCIES, PCCS, "wbx")
    return {d["metadata"]["name"]: d["spec"]["authorization"]["acls"] for d in docs
            if d["kind"] == "KafkaUser"}  # fmt: skip


def _topic_pairs(users: dict[str, list[dict]]) -> set[tuple[str, str, str]]:
    return {
        (user, op, rule["resource"]["name"])
        for user, rules in users.items()
        for rule in rules
        if rule["resource"]["type"] == "topic"
        for op in rule["operations"]
        if op in ("Read", "Write")
    }


def test_every_topic_of_the_plan_is_a_kafka_topic_with_its_settings_and_no_other():
    docs = strimzi_documents(SPECS, AGENCIES, PCCS, "wbx")
    topics = {d["spec"]["topicName"]: d for d in docs if d["kind"] == "KafkaTopic"}
    assert sorted(topics) == sorted(s.name for s in SPECS)
    for spec in SPECS:
        body = topics[spec.name]
        assert body["metadata"]["labels"]["strimzi.io/cluster"] == "wbx"
        assert body["spec"]["partitions"] == spec.partitions
        assert body["spec"]["replicas"] == spec.replication_factor
        assert body["spec"]["config"] == spec.configs()


def test_the_users_acls_are_exactly_the_plans_readers_and_writers():
    assert _topic_pairs(_users()) == _expected_pairs()


def test_each_principal_is_confined_to_what_its_role_needs():
    users = _users()
    pairs = _topic_pairs(users)

    def topics(user: str, op: str) -> set[str]:
        return {t for u, o, t in pairs if u == user and o == op}

    for agency in AGENCIES:  # an agency writes ingest and reads its own receipts, nothing else
        user = f"wbx-publisher-{agency.lower()}"
        assert topics(user, "Write") == {INGEST}
        assert topics(user, "Read") == {receipts_topic(agency)}
    for pcc in PCCS:  # a PCC reads its own alerts, not another PCC's, and writes nothing
        assert topics(f"wbx-{pcc}", "Read") == {alerts_topic(pcc)}
        assert topics(f"wbx-{pcc}", "Write") == set()
    assert topics("wbx-analyst", "Read") == {STATS}
    assert {u for u, o, t in pairs if o == "Write" and t == KEYS} == {"wbx-admin"}


def test_consumer_groups_are_the_workers_own_and_a_prefix_per_other_reader():
    groups = {
        (user, rule["resource"]["name"], rule["resource"]["patternType"])
        for user, rules in _users().items()
        for rule in rules
        if rule["resource"]["type"] == "group"
    }
    assert ("wbx-worker", "wbx", "literal") in groups
    assert ("wbx-worker", "wbx-aggregate", "literal") in groups
    assert ("wbx-pcc-plav", "wbx-pcc-plav-", "prefix") in groups
    assert ("wbx-publisher-rs-bp", "wbx-publisher-rs-bp-", "prefix") in groups  # receipts


def test_the_kafka_cli_script_creates_each_topic_once_grants_each_acl_and_is_valid_sh():
    script = kafka_cli(SPECS, AGENCIES, PCCS)
    for spec in SPECS:
        creates = [line for line in script.splitlines() if f"--topic {spec.name} " in line]
        assert len(creates) == 1 and f"--partitions {spec.partitions} " in creates[0]
    assert script.count("kafka-acls.sh ") == len(acls(SPECS, AGENCIES, PCCS))
    checked = subprocess.run(["sh", "-n"], input=script, text=True, capture_output=True)
    assert checked.returncode == 0, checked.stderr


def test_the_command_renders_each_format_and_refuses_an_unknown_one(tmp_path: Path):
    runner = CliRunner()
    out = tmp_path / "wbx.yaml"
    done = runner.invoke(cli, ["topics", "render", "--format", "strimzi", "--output", str(out)])
    assert done.exit_code == 0, done.output
    kinds = [d["kind"] for d in yaml.safe_load_all(out.read_text()) if d]
    assert kinds.count("KafkaTopic") == len(SPECS) and "KafkaUser" in kinds
    table = runner.invoke(cli, ["topics", "render", "--format", "acl"])
    assert table.exit_code == 0 and "wbx-admin\tWrite\ttopic\tliteral\twbx.keys.v1" in table.output
    bad = runner.invoke(cli, ["topics", "render", "--format", "helm"])
    assert bad.exit_code == 2 and "'helm' is not one of" in bad.output


def test_create_is_granted_only_to_the_worker_on_its_changelogs():
    rules = acls(SPECS, AGENCIES, PCCS)
    creates = {(r.principal, r.name) for r in rules if r.operation == "Create"}
    changelogs = {s.name for s in SPECS if s.name.endswith("-changelog")}
    assert changelogs and creates == {("wbx-worker", name) for name in changelogs}
