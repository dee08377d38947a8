"""The topic plan rendered for an Apache Kafka cluster: Strimzi manifests, ACLs, kafka-*.sh.

`infra/topics.toml` says, per topic, which roles write and read it; this module turns the
roles into Kafka principals and the pairs into ACLs, so the cluster's access rules are
derived from the one plan and never written by hand. Pure: specs and reference ids in,
documents and text out.

Principals (SCRAM user names; with TLS client authentication, the certificate's CN):

* `wbx-publisher-<agency>` for each agency of the reference data (`publisher`), so one
  agency's credentials can write `wbx.ingest.v1` and nothing else;
* `wbx-pcc-<name>` for each PCC (`pcc_operator`): on a per-PCC topic only its own PCC's;
* `wbx-worker`, `wbx-gateway`, `wbx-analyst`, `wbx-admin` for the other roles; `wbx-admin`
  is the operators' principal, the only writer of the key registry.

Consumer groups: the worker's (`wbx`, `wbx-aggregate`) for `wbx-worker`; any other reader
may use groups named with its principal as prefix (`wbx-analyst-...`).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from schemas.topics import TopicSpec, alerts_topic, receipts_topic

WORKER_GROUPS = ("wbx", "wbx-aggregate")
"""The worker's consumer groups (`WBX_WORKER_APP_ID` and its hop-2 group)."""

GENERATED = "generated from infra/topics.toml by `wbx topics render`; do not edit"


@dataclass(frozen=True, order=True)
class Acl:
    """One allow rule: `principal` may do `operation` on a resource."""

    principal: str
    resource: str  # topic, group or cluster
    name: str
    pattern: str  # literal or prefix
    operation: str  # Read, Write, Describe, Create, IdempotentWrite


def principal_names(
    role: str, topic: str, agencies: Sequence[str], pccs: Sequence[str]
) -> list[str]:
    """The principals that act for `role` on `topic`."""
    if role == "publisher":  # on a per-agency topic only that agency's
        own = [agency for agency in agencies if receipts_topic(agency) == topic]
        return [f"wbx-publisher-{agency.lower()}" for agency in (own or agencies)]
    if role == "pcc_operator":
        own = [pcc for pcc in pccs if alerts_topic(pcc) == topic]
        return [_pcc_principal(pcc) for pcc in (own or pccs)]
    return [f"wbx-{role.replace('_', '-')}"]


def _pcc_principal(pcc: str) -> str:
    return f"wbx-{pcc}"  # PCC ids already read pcc-<name>


def acls(specs: Iterable[TopicSpec], agencies: Sequence[str], pccs: Sequence[str]) -> list[Acl]:
    """Every ACL the plan implies, sorted, each once."""
    rules: set[Acl] = set()
    readers: set[str] = set()
    for spec in specs:
        for verb, roles in (("Write", spec.writers), ("Read", spec.readers)):
            for role in roles:
                for principal in principal_names(role, spec.name, agencies, pccs):
                    rules.add(Acl(principal, "topic", spec.name, "literal", verb))
                    rules.add(Acl(principal, "topic", spec.name, "literal", "Describe"))
                    if verb == "Write" and spec.name.endswith("-changelog"):
                        # faust declares its tables' changelogs at start; with Create on the
                        # topic, Kafka answers "already exists" instead of refusing.
                        rules.add(Acl(principal, "topic", spec.name, "literal", "Create"))
                    if verb == "Write":
                        # Idempotent producers need it on clusters older than Kafka 3.0.
                        rules.add(Acl(principal, "cluster", "kafka-cluster", "literal",
                                      "IdempotentWrite"))  # fmt: skip
                    else:
                        readers.add(principal)
    for principal in readers:
        if principal == "wbx-worker":
            for group in WORKER_GROUPS:
                rules.add(Acl(principal, "group", group, "literal", "Read"))
        else:
            rules.add(Acl(principal, "group", f"{principal}-", "prefix", "Read"))
    return sorted(rules)


def _k8s_name(topic: str) -> str:
    """A Kubernetes object name for a topic (lower case, dots allowed, no underscores)."""
    return topic.lower().replace("_", "-")


def strimzi_documents(
    specs: Sequence[TopicSpec], agencies: Sequence[str], pccs: Sequence[str], cluster: str
) -> list[dict[str, Any]]:
    """A `KafkaTopic` for every topic and a `KafkaUser` (SCRAM-SHA-512, its ACLs) for every
    principal, for the Strimzi operator's cluster `cluster`."""
    labels = {"strimzi.io/cluster": cluster, "app.kubernetes.io/part-of": "wbx"}
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": "kafka.strimzi.io/v1beta2",
            "kind": "KafkaTopic",
            "metadata": {"name": _k8s_name(spec.name), "labels": labels},
            "spec": {
                "topicName": spec.name,
                "partitions": spec.partitions,
                "replicas": spec.replication_factor,
                "config": spec.configs(),
            },
        }
        for spec in specs
    ]
    by_principal: dict[str, list[Acl]] = {}
    for rule in acls(specs, agencies, pccs):
        by_principal.setdefault(rule.principal, []).append(rule)
    for principal, rules in sorted(by_principal.items()):
        grouped: dict[tuple[str, str, str], list[str]] = {}
        for rule in rules:
            grouped.setdefault((rule.resource, rule.name, rule.pattern), []).append(rule.operation)
        entries = []
        for (resource, name, pattern), operations in grouped.items():
            target: dict[str, str] = {"type": resource}
            if resource != "cluster":
                target |= {"name": name, "patternType": pattern}
            entries.append({"resource": target, "operations": sorted(operations), "host": "*"})
        docs.append(
            {
                "apiVersion": "kafka.strimzi.io/v1beta2",
                "kind": "KafkaUser",
                "metadata": {"name": principal, "labels": labels},
                "spec": {
                    "authentication": {"type": "scram-sha-512"},
                    "authorization": {"type": "simple", "acls": entries},
                },
            }
        )
    return docs


def strimzi_yaml(
    specs: Sequence[TopicSpec], agencies: Sequence[str], pccs: Sequence[str], cluster: str
) -> str:
    """The Strimzi documents as one multi-document YAML file."""
    docs = strimzi_documents(specs, agencies, pccs, cluster)
    body: str = yaml.safe_dump_all(docs, sort_keys=False, explicit_start=True)
    return f"# {GENERATED}\n" + body


def acl_table(specs: Sequence[TopicSpec], agencies: Sequence[str], pccs: Sequence[str]) -> str:
    """Every ACL as a tab-separated table (principal, operation, resource, pattern, name)."""
    lines = [f"# {GENERATED}", "principal\toperation\tresource\tpattern\tname"]
    for rule in acls(specs, agencies, pccs):
        lines.append(
            f"{rule.principal}\t{rule.operation}\t{rule.resource}\t{rule.pattern}\t{rule.name}"
        )
    return "\n".join(lines) + "\n"


def kafka_cli(specs: Sequence[TopicSpec], agencies: Sequence[str], pccs: Sequence[str]) -> str:
    """A shell script of `kafka-topics.sh` and `kafka-acls.sh` commands (idempotent)."""
    connect = '--bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG"'
    lines = [
        "#!/bin/sh",
        f"# {GENERATED}",
        "# BOOTSTRAP: host:port of a broker; CLIENT_CONFIG: the admin client's properties",
        "# (security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.location).",
        "set -eu",
        ': "${BOOTSTRAP:?set BOOTSTRAP to host:port}"',
        ': "${CLIENT_CONFIG:?set CLIENT_CONFIG to the admin client properties file}"',
        "",
    ]
    for spec in specs:
        configs = " ".join(f"--config {shlex.quote(f'{k}={v}')}" for k, v in spec.configs().items())
        lines.append(
            f"kafka-topics.sh {connect} --create --if-not-exists --topic {shlex.quote(spec.name)}"
            f" --partitions {spec.partitions} --replication-factor {spec.replication_factor}"
            f" {configs}"
        )
    lines.append("")
    for rule in acls(specs, agencies, pccs):
        if rule.resource == "cluster":
            target = "--cluster"
        else:
            target = f"--{rule.resource} {shlex.quote(rule.name)}"
            if rule.pattern == "prefix":
                target += " --resource-pattern-type prefixed"
        lines.append(
            f"kafka-acls.sh {connect} --add --allow-principal User:{rule.principal}"
            f" --operation {rule.operation} {target}"
        )
    return "\n".join(lines) + "\n"


__all__ = ["Acl", "acl_table", "acls", "kafka_cli", "principal_names", "strimzi_documents",
           "strimzi_yaml"]  # fmt: skip
