"""Inbox-based idempotent consumer.

For every record: open a transaction, insert the event id into this service's inbox
(ON CONFLICT DO NOTHING), run the handler only if the insert happened, commit — then
commit the Kafka offset. A redelivered event finds its id already there and has no
second effect, which is what makes every replay harmless: a redelivery, a broker reset
(every partition read again from its start, libs.common.broker_watch) or a dead letter
sent back by a person (libs.common.deadletters).

Failures come in two kinds (libs.common.transient). The infrastructure's — the database
refusing connections, a full pool, a broker timeout — are retried with backoff for as long
as it takes, holding the partition (its later records wait, so order is kept) and logging
each retry; they never dead-letter. The handler's own — a bug, data a constraint refuses —
are tried `max_attempts` times, then the record is dead-lettered: stored in this service's
database (`dead_letters`, listed and replayed with `python -m libs.common.deadletters`) and
copied to the dead-letter topic with the error attached, so one poison message cannot stall
a county's partition.

Partitions are handled concurrently, each strictly in order (libs.common.partition_lanes):
handlers must be safe against a handler of another partition running at the same time —
row locks (SELECT … FOR UPDATE), conditional UPDATEs and ON CONFLICT, not read-then-write.

Retention (`purge_forever`, started by every service). The inbox is the de-duplication record,
so a row may go only once its event can no longer arrive again. An event arrives again
(a) from the log it is in — a rebalance, an expired group offset (auto_offset_reset=earliest)
or a broker reset that re-reads every partition — for at most the topic's retention after it
was appended (deploy/k8s: 7 days), and (b) after the broker lost everything, when the relay
republishes every row it published within `outbox_retention` (7 days, libs.common.outbox),
which then sits in the new log for the topic's retention again. An event is received no
earlier than it was first published, so one broker loss brings it back at most
outbox_retention + topic retention = 14 days after its inbox row was written; each further
loss within the window adds outbox_retention. The default, 30 days, covers that with two more
losses in a row; `min_inbox_retention` refuses less than outbox retention twice plus a day
(the topic retention is taken to be no longer than the outbox's: keep it so). A dead letter
replayed later than the inbox retention reaches consumers that no longer remember handling it:
replay dead letters within that time, or discard them.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from sqlalchemy import Column, DateTime, Index, MetaData, String, Table, bindparam, func, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common import audit, deadletters, tracing
from libs.common.aio import within
from libs.common.backoff import Backoff, retry
from libs.common.broker_watch import BrokerWatch
from libs.common.config import CommonSettings
from libs.common.events.envelope import Envelope
from libs.common.fastsql import FastStatement
from libs.common.handlers import PayloadInvalid
from libs.common.logging import correlation_id
from libs.common.orm import rowcount
from libs.common.partition_lanes import PartitionLanes
from libs.common.periodic import every as run_every
from libs.common.pipeline_tables import claim_state, get_state
from libs.common.transient import is_transient

log = logging.getLogger(__name__)
T = TypeVar("T")

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("event_id", String(64), primary_key=True),
        Column("event_type", String(200), nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        # The retention purge takes the oldest rows first (libs.common.pipeline_migrations).
        Index("ix_inbox_received_at", "received_at"),
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


def min_inbox_retention(outbox_retention: timedelta) -> timedelta:
    """The shortest inbox retention that still de-duplicates a broker reset's republish (above)."""
    return 2 * outbox_retention + timedelta(days=1)


async def purge_before(session: AsyncSession, table: Table, *, before: datetime, limit: int = 5000) -> int:
    """Delete up to `limit` inbox rows received before `before`, oldest first, in the caller's
    transaction; returns how many. Rows locked by a consumer's transaction are skipped."""
    result = await session.execute(
        text(
            f'DELETE FROM "{table.name}" WHERE event_id IN (SELECT event_id FROM "{table.name}" '
            "WHERE received_at < :before ORDER BY received_at LIMIT :limit FOR UPDATE SKIP LOCKED)"
        ),
        {"before": before, "limit": limit},
    )
    return rowcount(result)


async def purge_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    table: Table,
    *,
    retention: timedelta,
    service: str,
    batch: int = 5000,
) -> int:
    """One purge pass: batches of `batch`, each its own short transaction (no long lock on the
    table the consumer writes to); logs and audits what went. Returns the rows deleted."""
    before = datetime.now(UTC) - retention
    total = 0
    while True:
        async with sessionmaker() as session, session.begin():
            n = await purge_before(session, table, before=before, limit=batch)
        total += n
        if n < batch:
            break
    if total:
        detail = {"table": table.name, "rows": total, "received_before": before.isoformat()}
        async with sessionmaker() as session, session.begin():
            await audit.record(session, service=service, action="inbox.purged", detail=detail)
        log.info(
            "%s: purged %d inbox rows received before %s (retention %s)", service, total, before, retention
        )
    return total


async def purge_forever(
    sessionmaker: async_sessionmaker[AsyncSession],
    table: Table,
    service: str,
    settings: CommonSettings,
    *,
    every: float = 3600.0,
) -> None:
    """The service's inbox retention task (`inbox_retention_hours` = 0 keeps every row for
    good). Several replicas may run it at once: they skip each other's locked rows."""
    retention = timedelta(hours=settings.inbox_retention_hours)
    if retention <= timedelta(0):
        return
    floor = min_inbox_retention(timedelta(hours=settings.outbox_retention_hours))
    if retention < floor:
        log.warning(
            "%s: inbox retention %s is shorter than a broker reset can redeliver (%s): keeping %s",
            service,
            retention,
            floor,
            floor,
        )
        retention = floor

    async def purge() -> None:  # the database may be away: the next round tries again
        await purge_once(sessionmaker, table, retention=retention, service=service)

    await run_every(every, purge, name=f"{service}: inbox purge")


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
        watch: BrokerWatch | None = None,
        retry_max_seconds: float = 10.0,
        group: str | None = None,
    ) -> None:
        self.consumer, self.sessionmaker, self.inbox = consumer, sessionmaker, inbox
        self.handlers, self.producer, self.dead_letter_topic = handlers, producer, dead_letter_topic
        self.max_attempts, self.service = max_attempts, service
        # A stopped aiokafka consumer cannot be started again: a restart needs a new one.
        self.consumer_factory = consumer_factory
        # Records in progress at once, across partitions: each holds a DB connection.
        self.concurrency = concurrency
        self.watch, self.retry_max_seconds = watch, retry_max_seconds
        self.group = group or service  # the consumer group: names its stored epoch and its metrics
        self.lanes: PartitionLanes | None = None
        self._runs = 0
        self.processed = 0
        self.duplicates = 0
        self.dead_lettered = 0
        self.transient_retries = 0  # handler attempts that failed on the infrastructure, retried
        self._waiting: set[Backoff] = set()  # retries in progress (a record waits in each)

    @property
    def epoch_key(self) -> str:
        return f"consumer_epoch:{self.group}"

    async def run(self) -> None:
        if self._runs and self.consumer_factory is not None:
            self.consumer = self.consumer_factory()
        self._runs += 1
        start_epoch = None
        if self.watch is not None:
            await self.watch.known.wait()
            # The epoch our committed offsets belong to: if the broker has another one now (it
            # forgot while this service was down), every partition is read again from its start.
            start_epoch = await self._with_retry(self._stored_epoch, "reading the consumer's epoch")
        lanes = PartitionLanes(
            self.consumer,
            self.process,
            concurrency=self.concurrency,
            handle_batch=self.process_batch,
            epoch=(lambda: self.watch.epoch) if self.watch is not None else None,  # type: ignore[union-attr]
            start_epoch=start_epoch,
            on_epoch=self._store_epoch if self.watch is not None else None,
        )
        self.lanes = lanes
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
        handler = self.handlers.get(event.type) or self.handlers.get("*")
        wants = getattr(handler, "wants", None)  # libs.common.handlers.TypedHandler
        if wants is not None and not wants(event):
            return None  # none of this service's business: no transaction, no inbox row
        return handler

    async def process_batch(self, records: list[ConsumerRecord]) -> bool:
        """A partition's waiting records in one transaction, in order (each still recorded in
        the inbox, so a redelivery has no second effect). Under load this is what keeps a busy
        county's lane up: one commit — for PostgreSQL one WAL flush — for the run instead of
        one per record. If anything in the run fails, nothing of it is kept (False): the lane
        then sends each record through `process`, with its own retries and dead-lettering."""
        events: list[Envelope] = []
        for record in records:
            try:
                events.append(Envelope.from_kafka(record.headers, record.value))
            except Exception:
                return False  # unparseable: `process` dead-letters it
        # Looked up once per record: `wants` parses the payload where a handler can rule one out.
        mine = [(e, h) for e in events if (h := self._handler_for(e)) is not None]
        if not mine:
            return True  # not ours: topics carry several event types
        handled = duplicates = 0
        try:
            async with self.sessionmaker() as session, session.begin():
                for event, handler in mine:
                    if not await record_once(session, self.inbox, event):
                        duplicates += 1
                        continue
                    token = correlation_id.set(event.correlation_id)
                    try:
                        with tracing.consuming(event, self.service):
                            await handler(session, event)
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
            await self._dead_letter(record, f"unparseable CloudEvent: {exc}", None)
            return
        handler = self._handler_for(event)
        if handler is None:
            return  # not ours: topics carry several event types
        token = correlation_id.set(event.correlation_id)
        transient = Backoff(cap=self.retry_max_seconds)

        def paused(exc: BaseException, _tries: int, delay: float) -> None:
            self._paused(f"handling {event.type}", exc, transient, delay)

        async def handle() -> None:  # the infrastructure's failures: retried until it is back
            await retry(
                lambda: self._handle_once(event, handler),
                backoff=transient,
                when=is_transient,
                on_retry=paused,
            )

        def failed(exc: BaseException, tries: int, _delay: float) -> None:
            log.warning(
                "handler failed (attempt %d/%d) for %s: %s", tries, self.max_attempts, event.type, exc
            )

        try:  # the handler's own failures: `max_attempts` tries 0.1 s, 0.2 s … apart, then a dead letter
            await retry(
                handle,
                backoff=Backoff(first=0.1, cap=math.inf),
                attempts=self.max_attempts,
                on_retry=failed,
                when=lambda exc: not isinstance(exc, PayloadInvalid),  # no later try parses it
            )
        except PayloadInvalid as exc:  # the reason names the field: `payload_invalid: <field>: <why>`
            log.warning("payload of %s %s does not parse: %s", event.type, event.id, exc)
            await self._dead_letter(record, str(exc), event)
        except Exception as exc:
            failed(exc, max(self.max_attempts, 1), 0.0)
            await self._dead_letter(record, f"{type(exc).__name__}: {exc}", event)
        finally:
            correlation_id.reset(token)
            self._waiting.discard(transient)

    async def _handle_once(self, event: Envelope, handler: Handler) -> None:
        async with self.sessionmaker() as session, session.begin():
            if not await record_once(session, self.inbox, event):
                self.duplicates += 1
                return
            with tracing.consuming(event, self.service):  # its events carry the trace on
                await handler(session, event)
        self.processed += 1

    @property
    def waiting_since(self) -> float | None:
        """Monotonic time since which the longest transient retry has been waiting (None: none)."""
        return min((b.since for b in self._waiting if b.since is not None), default=None)

    def _paused(self, what: str, exc: BaseException, backoff: Backoff, delay: float) -> None:
        """The infrastructure failed: counted and logged; `retry` waits (doubling up to
        `retry_max_seconds`) and tries again."""
        self._waiting.add(backoff)
        self.transient_retries += 1
        log.warning(
            "%s: %s failed on the infrastructure (%s: %s); retrying in %.1f s (waiting %.0f s so far; "
            "the partition holds its later records)",
            self.service,
            what,
            type(exc).__name__,
            exc,
            delay,
            time.monotonic() - (backoff.since or time.monotonic()),
        )

    async def _with_retry(self, step: Callable[[], Awaitable[T]], what: str) -> T:
        backoff = Backoff(cap=self.retry_max_seconds)

        def paused(exc: BaseException, _tries: int, delay: float) -> None:
            self._paused(what, exc, backoff, delay)

        try:
            return await retry(step, backoff=backoff, when=is_transient, on_retry=paused)
        finally:
            self._waiting.discard(backoff)

    async def _stored_epoch(self) -> str | None:
        async with self.sessionmaker() as session:
            return await get_state(session, self.epoch_key)

    async def _store_epoch(self, epoch: str) -> None:
        async def store() -> None:
            async with self.sessionmaker() as session, session.begin():
                await claim_state(session, self.epoch_key, epoch)

        await self._with_retry(store, "recording the consumer's epoch")

    async def _dead_letter(self, record: ConsumerRecord, error: str, event: Envelope | None) -> None:
        """Stored in our database first (retried until it is: a dead letter is never lost),
        then copied to the dead-letter topic (best effort: the database copy is the one that
        is listed and replayed)."""

        async def store() -> None:
            async with self.sessionmaker() as session, session.begin():
                await deadletters.store(
                    session, consumer=self.service, record=record, event=event, error=error
                )

        await self._with_retry(store, "storing a dead letter")
        self.dead_lettered += 1
        log.error("event dead-lettered by %s (%s): %s", self.service, event.type if event else "?", error)
        headers = list(record.headers or ()) + [
            ("lawline_error", error[:2000].encode()),
            ("lawline_original_topic", record.topic.encode()),
            ("lawline_consumer", self.service.encode()),
            ("lawline_failed_at", datetime.now(UTC).isoformat().encode()),
        ]
        try:
            await within(
                self.producer.send_and_wait(
                    self.dead_letter_topic, value=record.value, key=record.key, headers=headers
                ),
                30,
            )
        except Exception as exc:
            log.warning("dead letter kept in the database only (topic copy failed: %s)", exc)
