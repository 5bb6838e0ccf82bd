"""aiokafka wiring: producer, consumer and topic creation.

The embedded Tansu broker does not support the idempotent producer, so the design is
at-least-once with idempotent consumers (see inbox.py); `acks="all"` still protects
against a lost write on a real multi-broker Kafka.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from libs.common.events.topics import PARTITIONS

log = logging.getLogger(__name__)


def make_producer(bootstrap: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
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
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
        max_poll_records=200,
        session_timeout_ms=10000,
        heartbeat_interval_ms=1000,
        retry_backoff_ms=200,
    )


async def ensure_topics(bootstrap: str, names: list[str], partitions: int = PARTITIONS) -> None:
    """Create topics if missing. Idempotent; safe for every service to call at start-up."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in missing]
                )
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


async def broker_reachable(bootstrap: str, timeout: float = 2.0) -> bool:
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host or "127.0.0.1", int(port)), timeout)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


__all__ = ["make_producer", "make_consumer", "ensure_topics", "broker_reachable", "KafkaError"]
