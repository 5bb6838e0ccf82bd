"""deploy/k8s as a current operator would take it (#20 item 3).

Both overlays are rendered (scripts/k8s_render.py: kustomize's subset used here) and every
manifest is validated against the real schemas (scripts/k8s_check.py): Kubernetes' own from
`kubernetes-validate`, the Strimzi 1.2 / CloudNativePG 1.30 / prometheus-operator 0.93 CRDs copied
into deploy/k8s/crds/. Then what a schema cannot say: KRaft with node pools, every topic the code
uses, ACLs equal to what the code does, migrations before the service, secrets by reference,
backups and monitoring for every database, and a Dockerfile that installs the lock.
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from libs.common.events.topics import PARTITIONS, all_topics, epoch_topic
from libs.common.migrate import SERVICES as MIGRATED
from scripts import kafka_acls
from scripts.k8s_check import check, errors_of
from scripts.k8s_render import render

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("production", "staging")
BACKENDS = ("intake", "dispatch", "aid", "mediation", "identity")


@lru_cache
def docs(overlay: str) -> tuple[dict[str, Any], ...]:
    return tuple(render(K8S / "overlays" / overlay))


def of_kind(overlay: str, kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs(overlay) if d["kind"] == kind}


def pod(deployment: dict[str, Any]) -> dict[str, Any]:
    return deployment["spec"]["template"]["spec"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_manifest_validates_against_kubernetes_and_the_operators_schemas(overlay):
    assert check(K8S / "overlays" / overlay) == {}
    assert {d["metadata"]["namespace"] for d in docs(overlay)} == {
        "production": {"lawline"},
        "staging": {"lawline-staging"},
    }[overlay]


def test_the_schema_check_can_fail():
    kafka = copy.deepcopy(of_kind("production", "Kafka")["lawline"])
    kafka["spec"]["zookeeper"] = {"replicas": 3}
    assert any("'zookeeper' was unexpected" in e for e in errors_of(kafka))
    old = {**copy.deepcopy(kafka), "apiVersion": "kafka.strimzi.io/v1beta2"}
    assert errors_of(old) == [
        "no schema for kafka.strimzi.io/v1beta2 Kafka: copy its CRD into deploy/k8s/crds/"
    ]
    deployment = copy.deepcopy(of_kind("production", "Deployment")["intake"])
    pod(deployment)["containers"][0]["envFrm"] = []
    assert any("'envFrm' was unexpected" in e for e in errors_of(deployment))
    cluster = copy.deepcopy(of_kind("production", "Cluster")["lawline-aid-db"])
    cluster["spec"]["instances"] = "three"
    assert errors_of(cluster)
    store = copy.deepcopy(of_kind("production", "ObjectStore")["lawline-aid-db-backup"])
    store["spec"]["configuration"]["s3Credentials"]["accessKeyId"] = "AKIAIOSFODNN7EXAMPLE"
    assert any("accessKeyId" in e for e in errors_of(store))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_is_kraft_with_node_pools(overlay):
    (kafka,) = of_kind(overlay, "Kafka").values()
    assert kafka["metadata"]["annotations"] == {
        "strimzi.io/node-pools": "enabled",
        "strimzi.io/kraft": "enabled",
    }
    assert "zookeeper" not in kafka["spec"] and "replicas" not in kafka["spec"]["kafka"]
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    assert kafka["spec"]["kafka"]["config"]["auto.create.topics.enable"] is False
    pools = of_kind(overlay, "KafkaNodePool")
    assert all(p["metadata"]["labels"]["strimzi.io/cluster"] == "lawline" for p in pools.values())
    roles = {name: sorted(p["spec"]["roles"]) for name, p in pools.items()}
    if overlay == "production":
        assert roles == {"controller": ["controller"], "broker": ["broker"]}
        assert all(p["spec"]["replicas"] == 3 for p in pools.values())
    else:
        assert roles == {"dual-role": ["broker", "controller"]}
        (topic,) = {t["spec"]["replicas"] for t in of_kind(overlay, "KafkaTopic").values()}
        assert topic == 1 and kafka["spec"]["kafka"]["config"]["min.insync.replicas"] == 1


def test_every_topic_in_code_is_declared_with_its_partitions():
    topics = of_kind("production", "KafkaTopic")
    assert set(topics) == set(all_topics(prefix="")) | {epoch_topic(prefix="")}
    for name, t in topics.items():
        assert t["metadata"]["labels"]["strimzi.io/cluster"] == "lawline", name
        assert t["spec"]["partitions"] == (1 if name == epoch_topic(prefix="") else PARTITIONS), name


def test_the_epoch_topic_is_one_partition_kept_for_ever():
    epoch = of_kind("production", "KafkaTopic")[epoch_topic(prefix="")]
    assert epoch["spec"]["partitions"] == 1
    assert epoch["spec"]["config"]["retention.ms"] == "-1"
    assert epoch["spec"]["config"]["cleanup.policy"] == "delete"


@lru_cache
def code_rights() -> dict[str, dict[tuple[str, str], set[str]]]:
    return {s: kafka_acls.rights(s) for s in BACKENDS}


def test_each_service_has_a_kafka_user_with_exactly_the_rights_its_code_uses():
    users = of_kind("production", "KafkaUser")
    assert set(users) == {kafka_acls.user_name(s) for s in BACKENDS}
    for service, rights in code_rights().items():
        user = users[kafka_acls.user_name(service)]
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        assert kafka_acls.declared(user) == rights, (
            f"{user['metadata']['name']}'s ACLs differ from the code: "
            "python -m scripts.kafka_acls > deploy/k8s/base/kafka-users.yaml"
        )
    # what the code says, read the other way round: dispatch consumes work orders, never writes them…
    dispatch, intake = code_rights()["dispatch"], code_rights()["intake"]
    assert dispatch[("topic", "lawline.workorder.v1")] == {"Describe", "Read", "Write"}
    assert intake[("topic", "lawline.workorder.v1")] == {"Describe", "Write"}
    assert ("group", "lawline-intake") in intake and ("group", "lawline-dispatch") not in intake
    # …and nobody may create a topic (KafkaTopics do) or touch the cluster.
    assert not any(
        "Create" in ops or kind == "cluster" for r in code_rights().values() for (kind, _), ops in r.items()
    )


def test_an_acl_the_code_no_longer_needs_is_caught():
    user = copy.deepcopy(of_kind("production", "KafkaUser")["lawline-aid"])
    user["spec"]["authorization"]["acls"].append(
        {"resource": {"type": "topic", "name": "lawline.workorder.v1"}, "operations": ["Write"]}
    )
    assert kafka_acls.declared(user) != code_rights()["aid"]


def test_every_service_logs_in_to_kafka_as_its_own_user():
    for name in BACKENDS:
        env = {e["name"]: e for e in pod(of_kind("production", "Deployment")[name])["containers"][0]["env"]}
        user = env["KAFKA_SASL_USERNAME"]["value"]
        assert user == kafka_acls.user_name(name)
        assert env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": user, "key": "password"}
    config = of_kind("production", "ConfigMap")["lawline-config"]["data"]
    assert (
        config["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and config["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    )
    (listener,) = of_kind("production", "Kafka")["lawline"]["spec"]["kafka"]["listeners"]
    assert listener["tls"] and listener["authentication"]["type"] == "scram-sha-512"
    assert config["KAFKA_BOOTSTRAP_SERVERS"] == f"lawline-kafka-bootstrap:{listener['port']}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_is_probed_limited_and_protected(overlay):
    deployments = of_kind(overlay, "Deployment")
    assert set(deployments) == {*BACKENDS, "console"}
    hpas = {d["spec"]["scaleTargetRef"]["name"] for d in of_kind(overlay, "HorizontalPodAutoscaler").values()}
    pdbs = set(of_kind(overlay, "PodDisruptionBudget"))
    for name, dep in deployments.items():
        spec = pod(dep)
        container = spec["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["resources"]["limits"], name
        assert f"services.{name}.main:create_app" in " ".join(container["command"]), name
        assert (ROOT / "services" / name / "main.py").is_file(), name
        assert name in hpas and name in pdbs, name
        assert spec["securityContext"]["runAsNonRoot"] and spec["securityContext"]["runAsUser"] != 0, name
        for c in [*spec.get("initContainers", []), *spec["containers"]]:
            assert c["image"] == "lawline/lawline:0.1.0", (name, c["image"])
            assert c["securityContext"]["readOnlyRootFilesystem"], (name, c["name"])


def test_migrations_run_before_each_service_with_its_own_database():
    assert set(MIGRATED) == {p.parent.parent.name for p in (ROOT / "services").glob("*/migrations/env.py")}
    for name, dep in of_kind("production", "Deployment").items():
        spec = pod(dep)
        if name not in MIGRATED:
            assert "initContainers" not in spec, name
            continue
        (init,) = spec["initContainers"]
        assert init["command"] == ["python", "-m", "libs.common.migrate", name]
        db = {
            "name": f"{name.upper()}_DATABASE_URL",
            "valueFrom": {"secretKeyRef": {"name": f"lawline-{name}-db-app", "key": "uri"}},
        }
        assert db in init["env"] and db in spec["containers"][0]["env"], name
        # the app's database secret is the one CloudNativePG writes for this service's cluster
        assert f"lawline-{name}-db" in of_kind("production", "Cluster")


SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|KEY|URL$", re.I)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_are_only_referenced(overlay):
    assert not of_kind(overlay, "Secret"), "no Secret in the manifests: they are created out of band"
    for name, dep in of_kind(overlay, "Deployment").items():
        for c in [*pod(dep).get("initContainers", []), *pod(dep)["containers"]]:
            for env in c.get("env", []):
                if SECRET_NAME.search(env["name"]):
                    assert "value" not in env and "secretKeyRef" in env["valueFrom"], (name, env["name"])
            refs = [e for e in c.get("envFrom", []) if "secretRef" in e]
            assert all(set(e) == {"secretRef"} for e in refs), name
    for config in of_kind(overlay, "ConfigMap").values():
        assert not [k for k in config["data"] if re.search(r"PASSWORD|SECRET|TOKEN|_KEYS?$", k)], config[
            "data"
        ]
    for store in of_kind(overlay, "ObjectStore").values():
        creds = store["spec"]["configuration"]["s3Credentials"]
        assert all(set(ref) == {"name", "key"} for ref in creds.values()), store["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_database_is_backed_up_to_an_object_store_and_monitored(overlay):
    clusters = of_kind(overlay, "Cluster")
    assert set(clusters) == {f"lawline-{s}-db" for s in MIGRATED}
    stores = of_kind(overlay, "ObjectStore")
    scheduled = {b["spec"]["cluster"]["name"]: b for b in of_kind(overlay, "ScheduledBackup").values()}
    monitors = {
        m["spec"]["selector"]["matchLabels"]["cnpg.io/cluster"]
        for m in of_kind(overlay, "PodMonitor").values()
    }
    for name, cluster in clusters.items():
        assert "enablePodMonitor" not in cluster["spec"].get("monitoring", {}), (
            "deprecated: a PodMonitor instead"
        )
        assert "barmanObjectStore" not in cluster["spec"].get("backup", {}), (
            "deprecated: the Barman Cloud plugin"
        )
        (plugin,) = cluster["spec"]["plugins"]
        assert plugin["name"] == "barman-cloud.cloudnative-pg.io" and plugin["isWALArchiver"], name
        assert plugin["parameters"]["barmanObjectName"] in stores, name
        assert scheduled[name]["spec"]["method"] == "plugin", name
        assert scheduled[name]["spec"]["pluginConfiguration"]["name"] == plugin["name"], name
        assert name in monitors, name


def test_every_service_has_a_service_monitor_for_its_metrics():
    """Every service and the console answer GET /metrics; deploy/monitoring's alerts expect one
    scrape job per Service, named after it."""
    monitors = {
        m["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]: m
        for m in of_kind("production", "ServiceMonitor").values()
    }
    services = of_kind("production", "Service")
    assert set(monitors) == set(of_kind("production", "Deployment")) == set(services)
    for name, monitor in monitors.items():
        (endpoint,) = monitor["spec"]["endpoints"]
        assert (
            endpoint["path"] == "/metrics" and endpoint["port"] == services[name]["spec"]["ports"][0]["name"]
        )


def test_the_dockerfile_installs_the_lock_and_runs_as_non_root():
    """No Docker engine here to build it (see README): the Dockerfile is checked as text."""
    parser = DockerfileParser(path=str(ROOT / "deploy" / "Dockerfile"))
    steps = [(i["instruction"], i["value"]) for i in parser.structure]
    assert parser.baseimage.startswith("python:3.11"), parser.baseimage
    runs = [v for k, v in steps if k == "RUN"]
    copies = [v for k, v in steps if k == "COPY"]
    lock = next(i for i, v in enumerate(runs) if "--require-hashes -r requirements.lock" in v)
    assert "requirements.lock ./" in copies[0], "the lock is copied (and installed) before the code"
    assert any("pip install --no-deps" in v for v in runs[lock + 1 :]), "lawline itself resolves nothing"
    assert not any(re.search(r"pip install(?!.*(--require-hashes|--no-deps))", v) for v in runs), runs
    users = [v for k, v in steps if k == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    for source in ("libs", "services", "pyproject.toml"):
        assert any(v.split()[0] == source for v in copies), source
        assert (ROOT / source).exists(), source
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and "requirements.lock" not in ignored
    for name, dep in of_kind("production", "Deployment").items():
        for c in [*pod(dep).get("initContainers", []), *pod(dep)["containers"]]:
            module = c["command"][2] if c["command"][:2] == ["python", "-m"] else None
            assert module in ("uvicorn", "libs.common.migrate"), (name, c["command"])


def test_the_renderer_refuses_what_it_does_not_implement(tmp_path):
    from scripts.k8s_render import RenderError

    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({"resources": [], "namePrefix": "x-"}))
    with pytest.raises(RenderError, match="namePrefix"):
        render(tmp_path)
