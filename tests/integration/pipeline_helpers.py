"""Shared pieces of the delivery-under-faults tests (broker reset, dead letters, credentials,
readiness): a private broker that can be restarted empty on its port, small check intervals,
one "process" of watch + relay + consumer over a service database, and readers that look at
the broker without joining a consumer group."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.broker_watch import BrokerWatch
from libs.common.db import asyncpg_dsn
from libs.common.embedded import EmbeddedBroker, free_port
from libs.common.events import intake as ev
from libs.common.events.envelope import Envelope, make_event
from libs.common.inbox import Handler, InboxConsumer
from libs.common.kafka import make_consumer, make_producer
from libs.common.outbox import OutboxRelay, enqueue
from libs.common.testing.infra import Infra
from services.intake.models import inbox, outbox

CHECK_SECONDS = 0.5  # broker check interval of every watch in these tests


class PrivateBroker:
    """A broker of one test's own: stopping it, or restarting it empty on the same port (what
    the embedded broker does after a crash: memory only), never disturbs the session's broker."""

    def __init__(self, tmp: Path) -> None:
        self.port, self.tmp, self.restarts = free_port(), tmp, 0
        self.broker: EmbeddedBroker | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> PrivateBroker:
        log = self.tmp / f"private-broker-{self.port}-{self.restarts}.log"
        self.broker = EmbeddedBroker(self.port, log_path=log).start()
        return self

    def stop(self) -> None:
        if self.broker is not None:
            self.broker.stop()
            self.broker = None

    def restart(self) -> None:
        """Stopped and started again: same address, no topics, no records, no groups."""
        self.stop()
        self.restarts += 1
        self.start()

    def infra(self, shared: Infra) -> Infra:
        """The session's PostgreSQL with this broker."""
        return Infra(shared.server_url, self.bootstrap, tmp=shared.tmp, migrate_lock=shared.migrate_lock)


def closed_event(county: str = "140403", label: str = "LW") -> Envelope:
    payload = ev.WorkOrderClosedV1(
        work_order_id=str(uuid.uuid4()),
        number=label,
        county_code=county,
        reason="test",
        closed_at=datetime.now(UTC),
    )
    return make_event(ev.WORKORDER_CLOSED, source=ev.SOURCE, payload=payload)


async def make_effects_table(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        await s.execute(
            text("CREATE TABLE effects (n bigserial PRIMARY KEY, event_id text NOT NULL, label text)")
        )


def recording_handler() -> Handler:
    async def handle(session: AsyncSession, event: Envelope) -> None:
        await session.execute(
            text("INSERT INTO effects (event_id, label) VALUES (:id, :label)"),
            {"id": event.id, "label": event.data["number"]},
        )

    return handle


async def effects(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str]]:
    """(event id, label) of every effect, in the order they were made."""
    async with sessions() as s:
        return [tuple(r) for r in (await s.execute(text("SELECT event_id, label FROM effects ORDER BY n")))]


async def enqueue_events(
    sessions: async_sessionmaker[AsyncSession], topic: str, events: list[tuple[str, Envelope]]
) -> None:
    """Through the outbox, one transaction each, as a service's use cases do."""
    for key, event in events:
        async with sessions() as s, s.begin():
            await enqueue(s, outbox, service="intake", topic=topic, key=key, event=event)


async def state(sessions: async_sessionmaker[AsyncSession], key: str) -> str | None:
    async with sessions() as s:
        return await s.scalar(text("SELECT value FROM pipeline_state WHERE key = :k"), {"k": key})


async def supervise(run: Callable[[], Awaitable[None]]) -> None:
    """Like libs.common.app._supervise: a consumer loop that dies is started again."""
    while True:
        try:
            await run()
        except asyncio.CancelledError:
            raise
        except Exception:
            await asyncio.sleep(0.5)


@dataclass
class Process:
    """What one service process runs for its pipeline: a broker watch, an outbox relay and an
    inbox consumer, over the service's database (intake's tables, a test handler)."""

    bootstrap: str
    db_url: str
    sessions: async_sessionmaker[AsyncSession]
    topic: str
    group: str
    handler: Handler
    consume: bool = True
    watch: BrokerWatch = field(init=False)
    relay: OutboxRelay = field(init=False)
    consumer: InboxConsumer | None = field(init=False, default=None)
    producer: AIOKafkaProducer = field(init=False)
    tasks: list[asyncio.Task] = field(init=False, default_factory=list)

    @property
    def dlq(self) -> str:
        return self.topic + ".dlq"

    async def start(self) -> Process:
        topics = [self.topic, self.dlq]
        self.watch = BrokerWatch(
            self.bootstrap, topics, epoch_topic=self.topic + ".epoch", partitions=3, interval=CHECK_SECONDS
        )
        self.tasks.append(asyncio.create_task(self.watch.run()))
        await asyncio.wait_for(self.watch.known.wait(), 20)
        self.producer = make_producer(self.bootstrap)
        await self.producer.start()
        self.relay = OutboxRelay(
            dsn=asyncpg_dsn(self.db_url),
            service="intake",
            producer=self.producer,
            bootstrap=self.bootstrap,
            topics=topics,
            poll_seconds=1.0,
            watch=self.watch,
            retention=timedelta(hours=1),
        )
        self.tasks.append(asyncio.create_task(self.relay.run()))
        if self.consume:
            self.consumer = InboxConsumer(
                consumer=make_consumer(self.bootstrap, [self.topic], self.group),
                consumer_factory=lambda: make_consumer(self.bootstrap, [self.topic], self.group),
                sessionmaker=self.sessions,
                inbox=inbox,
                handlers={ev.WORKORDER_CLOSED: self.handler},
                producer=self.producer,
                dead_letter_topic=self.dlq,
                service="test",
                watch=self.watch,
                retry_max_seconds=1.0,
                group=self.group,
            )
            self.tasks.append(asyncio.create_task(supervise(self.consumer.run)))
        return self

    async def stop(self) -> None:
        """Also for a process whose start failed half-way."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if hasattr(self, "relay"):
            await self.relay.close()
        if hasattr(self, "producer"):
            with contextlib.suppress(Exception):
                await self.producer.stop()
        if hasattr(self, "watch"):
            await self.watch.close()


# ---- looking at the broker without joining a group ----------------------------------------
# Log ends come from fetch responses (their high watermark), not from ListOffsets: Tansu 0.6
# answers ListOffsets(latest) with the last record batch's base offset + 1, which is too low
# whenever that batch holds several records (the relay sends a batch per drain).


async def _fetch_all(bootstrap: str, topic: str, timeout: float) -> tuple[list, dict[int, int]]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, fetch_max_wait_ms=50
    )
    await consumer.start()
    try:
        await consumer.topics()  # fresh metadata
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not tps:
            return [], {}  # no such topic (yet)
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, 0)
        out: list = []
        deadline = asyncio.get_running_loop().time() + timeout

        async def behind() -> list[TopicPartition]:
            return [
                tp
                for tp in tps
                if consumer.highwater(tp) is None or await consumer.position(tp) < consumer.highwater(tp)
            ]

        while await behind():
            assert asyncio.get_running_loop().time() < deadline, f"could not read {topic} to its end"
            for records in (await consumer.getmany(timeout_ms=100)).values():
                out.extend(records)
        return out, {tp.partition: consumer.highwater(tp) for tp in tps}
    finally:
        await consumer.stop()


async def read_topic(bootstrap: str, topic: str, *, timeout: float = 10.0) -> list:
    """Every record the topic holds now (all partitions, from their start; none if it does not exist)."""
    return (await _fetch_all(bootstrap, topic, timeout))[0]


def ce_ids(records: list) -> list[str]:
    return [dict(r.headers)["ce_id"].decode() for r in records]


async def log_ends(bootstrap: str, topic: str) -> dict[int, int]:
    """Each partition's next offset (its high watermark, as a fetch reports it)."""
    return (await _fetch_all(bootstrap, topic, 10.0))[1]


async def committed_offsets(bootstrap: str, topic: str, group: str, partitions: int) -> dict[int, int | None]:
    """The group's committed offsets, read without joining the group (OffsetFetch only)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return {p: await consumer.committed(TopicPartition(topic, p)) for p in range(partitions)}
    finally:
        await consumer.stop()


async def commit_offsets(bootstrap: str, topic: str, group: str, offsets: dict[int, int]) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = {TopicPartition(topic, p): o for p, o in offsets.items()}
        consumer.assign(list(tps))
        await consumer.commit(tps)
    finally:
        await consumer.stop()


async def partition_counts(bootstrap: str, topics: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        present = [t for t in topics if t in existing]
        described = await admin.describe_topics(present) if present else []
        return {d["topic"]: len(d["partitions"]) for d in described}
    finally:
        await admin.close()
