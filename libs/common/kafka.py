"""aiokafka wiring: producer, consumer and topic creation.

The embedded Tansu broker does not support the idempotent producer, so the design is
at-least-once with idempotent consumers (see inbox.py); `acks="all"` still protects
against a lost write on a real multi-broker Kafka.

Topics are created by lawline only (`ensure_topics`, with the configured partition count),
never by a client asking for metadata: aiokafka asks brokers to auto-create every topic it
looks up, and a broker that restarted empty then creates them with its default partition
count (4 on Tansu, 1 on Kafka) — seen after a broker restart: topics of 4 partitions instead
of 12, keys mapped to other partitions, per-county order gone. A producer sending to a topic
that does not exist now fails (UnknownTopicOrPartition, a transient error) until
`ensure_topics` has made it. Production sets `auto.create.topics.enable: false` on the
brokers as well (deploy/k8s).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from typing import Any

import aiokafka.client
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context
from aiokafka.protocol.metadata import MetadataRequest

from libs.common.events.topics import PARTITIONS

log = logging.getLogger(__name__)


def _never_auto_create_topics() -> None:
    """aiokafka has no setting for it: every client's metadata request is built by
    `aiokafka.client.MetadataRequest(topics)`, whose flag defaults to True. Binding the flag
    to False there covers producers, consumers and the admin client of this process.
    tests/integration/test_kafka_topics.py fails if an aiokafka upgrade undoes it."""
    current = aiokafka.client.MetadataRequest
    if isinstance(current, functools.partial):
        return
    aiokafka.client.MetadataRequest = functools.partial(  # type: ignore[misc]
        MetadataRequest, allow_auto_topic_creation=False
    )


_never_auto_create_topics()


def client_security() -> dict[str, Any]:
    """How every Kafka client of this process connects, for its constructor's keywords.

    PLAINTEXT unless `KAFKA_SECURITY_PROTOCOL` says otherwise (the embedded broker of make run
    and the tests). In Kubernetes (deploy/k8s) it is SASL_SSL: SCRAM-SHA-512 as the service's
    own KafkaUser (`KAFKA_SASL_USERNAME` / `KAFKA_SASL_PASSWORD`, whose ACLs allow exactly what
    the service does), the brokers' certificates checked against `KAFKA_SSL_CAFILE`."""
    protocol = os.environ.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").strip().upper()
    if protocol == "PLAINTEXT":
        return {}
    if protocol not in ("SSL", "SASL_SSL", "SASL_PLAINTEXT"):
        raise ValueError(f"KAFKA_SECURITY_PROTOCOL={protocol!r}: PLAINTEXT, SSL, SASL_SSL or SASL_PLAINTEXT")
    options: dict[str, Any] = {"security_protocol": protocol}
    if protocol != "SASL_PLAINTEXT":
        options["ssl_context"] = create_ssl_context(cafile=os.environ.get("KAFKA_SSL_CAFILE") or None)
    if protocol.startswith("SASL_"):
        options["sasl_mechanism"] = os.environ.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
        options["sasl_plain_username"] = os.environ["KAFKA_SASL_USERNAME"]
        options["sasl_plain_password"] = os.environ["KAFKA_SASL_PASSWORD"]
    return options


def make_producer(bootstrap: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        **client_security(),
        acks="all",
        linger_ms=1,
        request_timeout_ms=5000,
        enable_idempotence=False,
        retry_backoff_ms=200,
    )


def make_consumer(bootstrap: str, topics: list[str], group_id: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        **client_security(),
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
        max_poll_records=200,
        session_timeout_ms=10000,
        heartbeat_interval_ms=1000,
        retry_backoff_ms=200,
    )


async def ensure_topics(
    bootstrap: str,
    names: list[str],
    partitions: int = PARTITIONS,
    *,
    admin: AIOKafkaAdminClient | None = None,
) -> dict[str, int]:
    """Create the topics that are missing, with `partitions` partitions. Idempotent; safe for
    every service to call at any time. Returns the topics whose partition count differs from
    `partitions` (name -> count found): a partition count cannot be lowered, and raising it
    would move keys to other partitions, so that is for an operator to decide — the caller
    reports it loudly."""
    own = admin is None
    if admin is None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000, **client_security())
        await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in missing]
                )
                log.info("created topics %s with %d partitions", ", ".join(missing), partitions)
            except TopicAlreadyExistsError:
                pass  # another service made them first
        present = [n for n in names if n in existing]
        if not present:
            return {}
        counts = {d["topic"]: len(d["partitions"]) for d in await admin.describe_topics(present)}
        return {n: c for n, c in counts.items() if c != partitions}
    finally:
        if own:
            await admin.close()


async def broker_reachable(bootstrap: str, timeout: float = 2.0) -> bool:
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host or "127.0.0.1", int(port)), timeout)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


__all__ = [
    "client_security",
    "make_producer",
    "make_consumer",
    "ensure_topics",
    "broker_reachable",
    "KafkaError",
]
