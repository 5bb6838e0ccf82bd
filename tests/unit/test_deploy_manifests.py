"""The Kubernetes base stays coherent: every service has probes, limits, an HPA and a PDB,
and every Kafka topic the code uses is declared for Strimzi."""

from __future__ import annotations

from pathlib import Path

import yaml

from libs.common.events.topics import all_topics, epoch_topic

BASE = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "base"


def _docs() -> list[dict]:
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    docs = []
    for name in kustomization["resources"]:
        docs += [d for d in yaml.safe_load_all((BASE / name).read_text()) if d]
    return docs


def test_every_deployment_is_probed_limited_and_protected():
    docs = _docs()
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    assert {"intake", "dispatch", "aid", "mediation"} <= set(deployments)
    hpas = {d["spec"]["scaleTargetRef"]["name"] for d in docs if d["kind"] == "HorizontalPodAutoscaler"}
    pdbs = {d["metadata"]["name"] for d in docs if d["kind"] == "PodDisruptionBudget"}
    for name, dep in deployments.items():
        container = dep["spec"]["template"]["spec"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["resources"]["limits"], name
        assert f"services.{name}.main:create_app" in " ".join(container["command"]), name
        assert name in hpas and name in pdbs, name


def test_every_topic_in_code_is_declared_for_strimzi():
    declared = {d["metadata"]["name"] for d in _docs() if d["kind"] == "KafkaTopic"}
    assert set(all_topics(prefix="")) | {epoch_topic(prefix="")} <= declared


def test_the_epoch_topic_is_one_partition_kept_for_ever():
    (epoch,) = [
        d for d in _docs() if d["kind"] == "KafkaTopic" and d["metadata"]["name"] == epoch_topic(prefix="")
    ]
    assert epoch["spec"]["partitions"] == 1
    assert (
        epoch["spec"]["config"]["retention.ms"] == "-1"
        and epoch["spec"]["config"]["cleanup.policy"] == "delete"
    )
