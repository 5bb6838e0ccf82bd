"""Inbox-based idempotent consumer.

For every record: open a transaction, insert the event id into this service's inbox
(ON CONFLICT DO NOTHING), run the handler only if the insert happened, commit — then
commit the Kafka offset. A redelivered event finds its id already there and has no
second effect. A handler that keeps failing sends the record to the dead-letter topic
with the error attached, so one poison message cannot stall a county's partition.

Partitions are handled concurrently, each strictly in order (libs.common.partition_lanes):
handlers must be safe against a handler of another partition running at the same time —
row locks (SELECT … FOR UPDATE), conditional UPDATEs and ON CONFLICT, not read-then-write.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import lru_cache

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from sqlalchemy import Column, DateTime, MetaData, String, Table, bindparam, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.events.envelope import Envelope
from libs.common.fastsql import FastStatement
from libs.common.logging import correlation_id
from libs.common.partition_lanes import PartitionLanes

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("event_id", String(64), primary_key=True),
        Column("event_type", String(200), nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


@lru_cache(maxsize=16)
def _record_statement(table: Table) -> FastStatement:
    # Built once per inbox table: it runs for every event consumed.
    return FastStatement(
        insert(table)
        .values(event_id=bindparam("event_id"), event_type=bindparam("event_type"))
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(table.c.event_id)
    )


async def record_once(session: AsyncSession, table: Table, event: Envelope) -> bool:
    """True if this event id is new (and is now recorded in the caller's transaction)."""
    row = await _record_statement(table).fetchrow(session, {"event_id": event.id, "event_type": event.type})
    return row is not None


class InboxConsumer:
    def __init__(
        self,
        *,
        consumer: AIOKafkaConsumer,
        sessionmaker: async_sessionmaker[AsyncSession],
        inbox: Table,
        handlers: dict[str, Handler],
        producer: AIOKafkaProducer,
        dead_letter_topic: str,
        max_attempts: int = 3,
        service: str = "",
        consumer_factory: Callable[[], AIOKafkaConsumer] | None = None,
        concurrency: int = 8,
    ) -> None:
        self.consumer, self.sessionmaker, self.inbox = consumer, sessionmaker, inbox
        self.handlers, self.producer, self.dead_letter_topic = handlers, producer, dead_letter_topic
        self.max_attempts, self.service = max_attempts, service
        # A stopped aiokafka consumer cannot be started again: a restart needs a new one.
        self.consumer_factory = consumer_factory
        # Records in progress at once, across partitions: each holds a DB connection.
        self.concurrency = concurrency
        self._runs = 0
        self.processed = 0
        self.duplicates = 0
        self.dead_lettered = 0

    async def run(self) -> None:
        if self._runs and self.consumer_factory is not None:
            self.consumer = self.consumer_factory()
        self._runs += 1
        lanes = PartitionLanes(
            self.consumer, self.process, concurrency=self.concurrency, handle_batch=self.process_batch
        )
        try:
            # Inside the try: a service stopped while its consumer is still joining must
            # leave the group, or a zombie member holds partitions until its session expires.
            lanes.listen()
            await self.consumer.start()
            await lanes.run()
        finally:
            await lanes.close()
            await self.consumer.stop()

    def _handler_for(self, event: Envelope) -> Handler | None:
        # "*" lets a service follow every event type (intake's timeline folds them all).
        return self.handlers.get(event.type) or self.handlers.get("*")

    async def process_batch(self, records: list[ConsumerRecord]) -> bool:
        """A partition's waiting records in one transaction, in order (each still recorded in
        the inbox, so a redelivery has no second effect). Under load this is what keeps a busy
        county's lane up: one commit — for PostgreSQL one WAL flush — for the run instead of
        one per record. If anything in the run fails, nothing of it is kept (False): the lane
        then sends each record through `process`, with its own retries and dead-lettering."""
        events = []
        for record in records:
            try:
                event = Envelope.from_kafka(record.headers, record.value)
            except Exception:
                event = None  # unparseable: `process` dead-letters it
            events.append(event)
        if any(e is None for e in events):
            return False  # unparseable: `process` dead-letters it
        mine = [e for e in events if self._handler_for(e) is not None]
        if not mine:
            return True  # not ours: topics carry several event types
        handled = duplicates = 0
        try:
            async with self.sessionmaker() as session, session.begin():
                for event in mine:
                    if not await record_once(session, self.inbox, event):
                        duplicates += 1
                        continue
                    token = correlation_id.set(event.correlation_id)
                    try:
                        await self._handler_for(event)(session, event)  # type: ignore[misc]
                    finally:
                        correlation_id.reset(token)
                    # The next handler starts as in a session of its own: nothing of this one's
                    # objects (which raw statements may have made stale) stays in the session.
                    await session.flush()
                    session.expunge_all()
                    handled += 1
        except Exception as exc:
            log.info("run of %d records failed together (%s): one by one", len(records), exc)
            return False
        self.processed += handled
        self.duplicates += duplicates
        return True

    async def process(self, record: ConsumerRecord) -> None:
        try:
            event = Envelope.from_kafka(record.headers, record.value)
        except Exception as exc:
            await self._dead_letter(record, f"unparseable CloudEvent: {exc}")
            return
        handler = self._handler_for(event)
        if handler is None:
            return  # not ours: topics carry several event types
        token = correlation_id.set(event.correlation_id)
        try:
            for attempt in range(1, self.max_attempts + 1):
                try:
                    async with self.sessionmaker() as session, session.begin():
                        if not await record_once(session, self.inbox, event):
                            self.duplicates += 1
                            return
                        await handler(session, event)
                    self.processed += 1
                    return
                except Exception as exc:
                    log.warning(
                        "handler failed (attempt %d/%d) for %s: %s",
                        attempt,
                        self.max_attempts,
                        event.type,
                        exc,
                    )
                    if attempt == self.max_attempts:
                        await self._dead_letter(record, f"{type(exc).__name__}: {exc}")
                        return
                    await asyncio.sleep(0.05 * 2**attempt)
        finally:
            correlation_id.reset(token)

    async def _dead_letter(self, record: ConsumerRecord, error: str) -> None:
        headers = list(record.headers or ()) + [
            ("lawline_error", error[:2000].encode()),
            ("lawline_original_topic", record.topic.encode()),
            ("lawline_consumer", self.service.encode()),
            ("lawline_failed_at", datetime.now(UTC).isoformat().encode()),
        ]
        await self.producer.send_and_wait(
            self.dead_letter_topic, value=record.value, key=record.key, headers=headers
        )
        self.dead_lettered += 1
        log.error("event sent to dead-letter topic: %s", error)


async def replay_dead_letters(
    consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, *, limit: int = 1000
) -> int:
    """Republish dead letters to their original topic (after the bug is fixed)."""
    await consumer.start()
    n = 0
    try:
        batches = await consumer.getmany(timeout_ms=2000, max_records=limit)
        for tp, records in batches.items():
            for r in records:
                headers = [(k, v) for k, v in r.headers if not k.startswith("lawline_")]
                original = dict(r.headers).get("lawline_original_topic", b"").decode()
                if original:
                    await producer.send_and_wait(original, value=r.value, key=r.key, headers=headers)
                    n += 1
            await consumer.commit({TopicPartition(tp.topic, tp.partition): records[-1].offset + 1})
    finally:
        await consumer.stop()
    return n
