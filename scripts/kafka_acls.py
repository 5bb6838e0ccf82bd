"""The Kafka rights each service needs, read from the code, as Strimzi KafkaUsers.

`python -m scripts.kafka_acls > deploy/k8s/base/kafka-users.yaml` writes them;
tests/unit/test_deploy_manifests.py fails when the file and the code part ways (a new consumed
topic, a new event's topic, a renamed consumer group), so the ACLs cannot drift.

What a service does on the broker, and where the code does it:
- reads the topics of its ServiceSpec.consume in its consumer group (libs.common.app, default
  group `lawline-<service>`);
- writes the topics of the events it produces (each payload model's TOPIC, by producing module:
  libs.common.events.registry);
- a consumer writes dead letters (libs.common.inbox) and replays them to the topic they came from
  (libs.common.deadletters.replay), so it writes the topics it consumes too;
- every process reads the identity topic without a group (libs.common.apikeys.IdentityFeed),
  reads and, when it finds it empty, writes the epoch topic (libs.common.broker_watch), and lists
  and describes every lawline topic to check partition counts — a topic it may not Describe
  looks missing, and it would try to create it. Nobody gets Create: topics are KafkaTopics.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml

from libs.common.app import ServiceSpec
from libs.common.events.registry import payload_models, producer_of
from libs.common.events.topics import DEAD_LETTER, IDENTITY, all_topics, epoch_topic, topic

# Services with a database, an outbox and a Kafka identity (the console has none of them).
SERVICES = ("intake", "dispatch", "aid", "mediation", "identity")
CLUSTER = "lawline"


def user_name(service: str) -> str:
    return f"lawline-{service}"


@contextmanager
def _captured(module: Any) -> Iterator[list[ServiceSpec]]:
    """The ServiceSpec a service's create_app hands to create_service_app (nothing connects:
    the app is built, not started)."""
    seen: list[ServiceSpec] = []
    original = module.create_service_app

    def capture(spec: ServiceSpec, **kwargs: Any) -> Any:
        seen.append(spec)
        return original(spec, **kwargs)

    module.create_service_app = capture
    try:
        yield seen
    finally:
        module.create_service_app = original


def service_spec(service: str) -> ServiceSpec:
    module = importlib.import_module(f"services.{service}.main")
    with _captured(module) as seen:
        module.create_app()
    (spec,) = seen
    return spec


def rights(service: str, spec: ServiceSpec | None = None) -> dict[tuple[str, str], set[str]]:
    """(resource type, name) -> operations, for one service, with the default (empty) prefix."""
    spec = spec or service_spec(service)
    acl: dict[tuple[str, str], set[str]] = {}

    def grant(kind: str, name: str, *ops: str) -> None:
        acl.setdefault((kind, name), set()).update(ops)

    for name in [*all_topics(prefix=""), epoch_topic(prefix="")]:
        grant("topic", name, "Describe")
    grant("topic", topic(IDENTITY, prefix=""), "Read")
    grant("topic", epoch_topic(prefix=""), "Read", "Write")
    for model in payload_models():
        if producer_of(model) == service:
            grant("topic", topic(model.TOPIC, prefix=""), "Write")
    if spec.consume:
        for logical in spec.consume:
            grant("topic", topic(logical, prefix=""), "Read", "Write")
        grant("topic", topic(DEAD_LETTER, prefix=""), "Write")
        grant("group", spec.consumer_group or f"lawline-{service}", "Read")
    return acl


def kafka_user(service: str, acl: dict[tuple[str, str], set[str]]) -> dict[str, Any]:
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaUser",
        "metadata": {"name": user_name(service), "labels": {"strimzi.io/cluster": CLUSTER}},
        "spec": {
            "authentication": {"type": "scram-sha-512"},
            "authorization": {
                "type": "simple",
                "acls": [
                    {
                        "resource": {"type": kind, "name": name, "patternType": "literal"},
                        "operations": sorted(ops),
                    }
                    for (kind, name), ops in sorted(acl.items())
                ],
            },
        },
    }


def declared(user: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    """A KafkaUser's ACLs in the shape of `rights` (literal patterns only: a prefix would grant
    more than the code uses)."""
    acl: dict[tuple[str, str], set[str]] = {}
    for rule in user["spec"]["authorization"]["acls"]:
        resource = rule["resource"]
        if resource.get("patternType", "literal") != "literal" or rule.get("type", "allow") != "allow":
            raise ValueError(f"{user['metadata']['name']}: only literal allow rules: {rule}")
        acl.setdefault((resource["type"], resource["name"]), set()).update(rule["operations"])
    return acl


HEADER = """\
# One KafkaUser per service: SCRAM-SHA-512 credentials (the User Operator writes them into the
# Secret named after the user) and ACLs for exactly what the code does on the broker.
# Written by `python -m scripts.kafka_acls` from the code (why each right: that module's doc);
# tests/unit/test_deploy_manifests.py fails when this file and the code part ways.
"""


def main() -> None:
    docs = [kafka_user(s, rights(s)) for s in SERVICES]
    sys.stdout.write(HEADER + yaml.safe_dump_all(docs, sort_keys=False, width=110))


if __name__ == "__main__":
    main()
