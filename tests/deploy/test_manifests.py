"""The deployments under infra/deploy/ parse, follow their schemas, and reference only
images, files, secrets and config that exist in the repository, that `wbx deploy secrets`
writes, that Strimzi makes, or that docs/operations.md documents; the rendered parts
match the topic plan byte for byte."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from click.testing import CliRunner

from schemas.reference import load_reference
from schemas.settings import ContractSettings
from schemas.topics import load_topic_plan
from wbx.cli import cli
from wbx.render import kafka_cli, strimzi_yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "infra" / "deploy"
COMPOSE_DIR = DEPLOY / "compose"
K8S = DEPLOY / "kubernetes"
OPERATIONS = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
REFERENCE = load_reference(ContractSettings().reference_file)
PCCS = sorted(REFERENCE.pccs)
AGENCIES = sorted(REFERENCE.agencies)
SPECS = load_topic_plan(REPO / "infra" / "topics.toml", PCCS, AGENCIES)
KUBERNETES_VERSION = "1.31.0"  # the oldest Kubernetes these manifests are meant for


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((COMPOSE_DIR / "compose.yaml").read_text())
    return loaded


def _k8s_documents() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    docs = []
    for name in kustomization["resources"]:
        docs += [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]
    return docs


@pytest.fixture(scope="module")
def secrets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `wbx deploy secrets` writes, in a scratch copy of the compose directory."""
    target = tmp_path_factory.mktemp("compose") / "secrets"
    done = CliRunner().invoke(cli, ["deploy", "secrets", "--dir", str(target)])
    assert done.exit_code == 0, done.output
    return target


# --- rendered from the topic plan: never edited by hand --------------------------------


def test_the_strimzi_topics_and_users_are_the_rendered_topic_plan():
    committed = (K8S / "wbx-kafka.yaml").read_text(encoding="utf-8")
    assert committed == strimzi_yaml(SPECS, AGENCIES, PCCS, "wbx"), (
        "infra/deploy/kubernetes/wbx-kafka.yaml drifted from infra/topics.toml: run `make render`"
    )


def test_the_compose_topic_setup_is_the_rendered_topic_plan():
    committed = (COMPOSE_DIR / "kafka-setup.sh").read_text(encoding="utf-8")
    assert committed == kafka_cli(SPECS, AGENCIES, PCCS), (
        "infra/deploy/compose/kafka-setup.sh drifted from infra/topics.toml: run `make render`"
    )


# --- compose ---------------------------------------------------------------------------


def test_the_compose_file_follows_the_compose_specification():
    # The Compose Specification's schema as check-jsonschema keeps it current; located, not
    # imported (its CLI needs a newer click than faust allows).
    spec = importlib.util.find_spec("check_jsonschema")
    assert spec is not None and spec.submodule_search_locations
    package = Path(spec.submodule_search_locations[0])
    schema_file = package / "builtin_schemas" / "vendor" / "compose-spec.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    errors = sorted(
        jsonschema.validators.validator_for(schema)(schema).iter_errors(_compose()),
        key=lambda e: e.json_path,
    )
    assert not errors, "\n".join(f"{e.json_path}: {e.message}" for e in errors)


def test_compose_runs_three_kraft_nodes_with_tls_and_scram_and_the_wbx_services():
    services = _compose()["services"]
    nodes = [name for name in services if re.fullmatch(r"kafka-\d", name)]
    assert nodes == ["kafka-1", "kafka-2", "kafka-3"]
    script = (COMPOSE_DIR / "kafka-node.sh").read_text()
    assert "process.roles=broker,controller" in script
    assert "CLIENT:SASL_SSL" in script and "sasl.enabled.mechanisms=SCRAM-SHA-512" in script
    assert "StandardAuthorizer" in script and "allow.everyone.if.no.acl.found=false" in script
    workers = [s for s in services.values() if s.get("command") == ["worker"]]
    assert len(workers) >= 2
    assert {"gateway", "prometheus", "grafana", "kafka-setup"} <= set(services)
    for name, service in services.items():
        if "WBX_KAFKA_BOOTSTRAP" in service.get("environment", {}):
            env = service["environment"]
            assert env["WBX_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL", name
            assert env["WBX_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512", name
            assert set(env["WBX_KAFKA_BOOTSTRAP"].split(",")) == {f"{n}:9093" for n in nodes}


def test_the_node_and_setup_scripts_are_valid_sh_and_read_only_what_wbx_deploy_writes(
    secrets_dir: Path,
):
    for script in ("kafka-node.sh", "kafka-setup.sh"):
        checked = subprocess.run(["sh", "-n", str(COMPOSE_DIR / script)], capture_output=True)
        assert checked.returncode == 0, checked.stderr
    text = (COMPOSE_DIR / "kafka-node.sh").read_text()
    used = set(re.findall(r"\$SECRETS/([\w./$-]+)", text))
    assert used, "the node script reads no secrets?"
    for path in used:
        for node in ("1", "2", "3"):
            concrete = path.replace("$NODE_ID", node).rstrip("/*").removesuffix("/")
            assert (secrets_dir / "kafka" / concrete).exists(), path
    # Every principal with an ACL has a SCRAM password for the nodes to load.
    principals = {line.split("User:")[1].split()[0] for line in
                  kafka_cli(SPECS, AGENCIES, PCCS).splitlines() if "User:" in line}  # fmt: skip
    assert principals <= {p.name for p in (secrets_dir / "kafka" / "scram").iterdir()}


def test_compose_references_only_files_in_the_repository_or_written_by_wbx_deploy(
    secrets_dir: Path,
):
    compose = _compose()

    def exists(relative: str) -> bool:
        path = (COMPOSE_DIR / relative).resolve()
        if path.is_relative_to(COMPOSE_DIR / "secrets"):
            return (secrets_dir / path.relative_to(COMPOSE_DIR / "secrets")).exists()
        return path.exists()

    checked = 0
    for name, service in compose["services"].items():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("."):
                assert exists(source), f"{name}: volume source {source} does not exist"
                checked += 1
            else:
                assert source in compose["volumes"], f"{name}: volume {source} is not declared"
        for env_file in service.get("env_file", []):
            assert exists(env_file), f"{name}: env_file {env_file} does not exist"
            checked += 1
        if "build" in service:
            context = (COMPOSE_DIR / service["build"]["context"]).resolve()
            assert (context / service["build"]["dockerfile"]).is_file(), name
        for other in service.get("depends_on", []):
            assert other in compose["services"], f"{name} depends on unknown {other}"
    assert checked > 10


def test_every_image_is_built_here_or_documented_with_its_tag():
    compose = _compose()
    documented = set(re.findall(r"`([\w./-]+:[\w.-]+)`", OPERATIONS))
    images = {s["image"] for s in compose["services"].values() if "build" not in s}
    images |= {c["image"] for d in _k8s_documents() if d["kind"] in ("Deployment", "StatefulSet")
               for c in d["spec"]["template"]["spec"]["containers"]}  # fmt: skip
    built = {s["image"] for s in compose["services"].values() if "build" in s}
    assert built == {"wbx:0.1.0"} and "wbx:0.1.0" in documented
    assert images - built <= documented, f"not in docs/operations.md: {images - built - documented}"


def test_prometheus_scrapes_the_compose_services_on_their_ports():
    services = _compose()["services"]
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = [t for job in config["scrape_configs"] for sc in job["static_configs"]
               for t in sc["targets"]]  # fmt: skip
    for target in targets:
        host, port = target.split(":")
        assert host in services, f"Prometheus scrapes {host}, not a compose service"
        env = services[host].get("environment", {})
        if services[host].get("command") == ["worker"]:
            assert port == "9464" and env["WBX_WORKER_METRICS_HOST"] == "0.0.0.0"
        else:
            assert port == env["WBX_GATEWAY_PORT"] and env["WBX_GATEWAY_HOST"] == "0.0.0.0"
    workers = {n for n, s in services.items() if s.get("command") in (["worker"], ["gateway"])}
    assert workers == {t.split(":")[0] for t in targets}


# --- Kubernetes ------------------------------------------------------------------------


def test_the_kubernetes_objects_follow_the_kubernetes_schemas():
    builtin = [d for d in _k8s_documents() if not d["apiVersion"].startswith("kafka.strimzi.io")]
    assert {d["kind"] for d in builtin} >= {"Deployment", "StatefulSet", "PodDisruptionBudget"}
    for doc in builtin:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message} at {exc.path}")


def test_the_strimzi_cluster_runs_kraft_node_pools_with_scram_and_acls():
    docs = _k8s_documents()
    (kafka,) = [d for d in docs if d["kind"] == "Kafka"]
    name = kafka["metadata"]["name"]
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    assert listener["tls"] and listener["authentication"]["type"] == "scram-sha-512"
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    pools = [d for d in docs if d["kind"] == "KafkaNodePool"]
    assert sum(p["spec"]["replicas"] for p in pools) >= 3
    assert {"controller", "broker"} <= {r for p in pools for r in p["spec"]["roles"]}
    for doc in docs:
        if doc["apiVersion"].startswith("kafka.strimzi.io") and doc["kind"] != "Kafka":
            assert doc["metadata"]["labels"]["strimzi.io/cluster"] == name, doc["metadata"]


def _workloads() -> list[dict[str, Any]]:
    return [d for d in _k8s_documents() if d["kind"] in ("Deployment", "StatefulSet")]


def test_every_workload_has_probes_resources_and_a_disruption_budget():
    docs = _k8s_documents()
    budgets = [d["spec"]["selector"]["matchLabels"] for d in docs
               if d["kind"] == "PodDisruptionBudget"]  # fmt: skip
    for workload in _workloads():
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert any(b.items() <= labels.items() for b in budgets), workload["metadata"]["name"]
        for container in workload["spec"]["template"]["spec"]["containers"]:
            ports = {p["name"] for p in container["ports"]}
            for probe in ("livenessProbe", "readinessProbe"):
                assert container[probe]["httpGet"]["port"] in ports
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["resources"]["requests"] and container["resources"]["limits"]
    assert len({w["metadata"]["name"] for w in _workloads() if w["spec"]["template"]["spec"]
                ["containers"][0]["args"] == ["worker"]}) >= 2  # fmt: skip


def test_kubernetes_references_only_secrets_and_config_that_exist_or_are_documented():
    docs = _k8s_documents()
    (kafka,) = [d for d in docs if d["kind"] == "Kafka"]
    made_by_strimzi = {d["metadata"]["name"] for d in docs if d["kind"] == "KafkaUser"}
    made_by_strimzi.add(f"{kafka['metadata']['name']}-cluster-ca-cert")
    config_maps = {d["metadata"]["name"] for d in docs if d["kind"] == "ConfigMap"}
    secrets = {d["metadata"]["name"] for d in docs if d["kind"] == "Secret"}
    referenced: set[str] = set()
    for workload in _workloads():
        pod = workload["spec"]["template"]["spec"]
        for volume in pod.get("volumes", []):
            if "secret" in volume:
                referenced.add(volume["secret"]["secretName"])
        for container in pod["containers"]:
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in config_maps
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    referenced.add(ref["name"])
    assert referenced
    for name in referenced - made_by_strimzi - secrets:
        assert f"`{name}`" in OPERATIONS, f"secret {name} is neither made nor documented"


def test_kustomize_lists_every_manifest_of_the_directory():
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present
