"""Transactional outbox.

A state change and the event announcing it are written in ONE transaction, so an
event is never lost (the change committed) nor invented (the change rolled back).
The relay publishes rows to Kafka; it is woken by LISTEN/NOTIFY (the NOTIFY is sent
by the same transaction, so it fires exactly at commit) and claims rows with
`FOR UPDATE SKIP LOCKED`, so several replicas can relay without double work.
A row is marked published only after the broker acknowledged it: delivery is
at-least-once and consumers de-duplicate by event id (inbox.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import lru_cache
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TextClause,
    bindparam,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit, tracing
from libs.common.aio import wait_event
from libs.common.backoff import Backoff
from libs.common.broker_watch import BrokerWatch
from libs.common.events.envelope import Envelope
from libs.common.fastsql import FastStatement
from libs.common.kafka import ensure_topics
from libs.common.pii import scrub

log = logging.getLogger(__name__)


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(100)),
        Column("event", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("last_error", Text),
        # Unpublished rows only: the relay's claim stays an index scan however big the outbox grows.
        Index("ix_outbox_unpublished", "id", postgresql_where=text("published_at IS NULL")),
        # Published rows: the republish window and the purge (libs.common.pipeline_migrations).
        Index("ix_outbox_published", "published_at", postgresql_where=text("published_at IS NOT NULL")),
    )


def notify_channel(service: str) -> str:
    return f"outbox_{service}"


class PiiInEvent(ValueError):
    """An event payload carried a raw ID or phone number (LAWLINE_EVENT_PII=refuse)."""


def guard_payload(event: Envelope) -> None:
    """Events travel to every consumer and sit in Kafka for days: no raw ID or phone in them.
    Default: mask and warn (naming the field, never the value); `refuse` raises instead."""
    masked, paths = scrub(event.data)
    if not paths:
        return
    if os.environ.get("LAWLINE_EVENT_PII", "mask").lower() == "refuse":
        raise PiiInEvent(f"raw personal data in event {event.type} at {', '.join(paths)}")
    log.warning("masked raw personal data in event %s at %s", event.type, ", ".join(paths))
    event.data = masked  # type: ignore[assignment]


@lru_cache(maxsize=256)
def _enqueue_statement(table_name: str, channel: str, n: int, with_audit: bool) -> TextClause:
    # One statement, one round trip, for n events: the outbox rows, their audit entries and
    # the NOTIFY (pg_notify; folded into one at commit). Built once per shape, so SQLAlchemy
    # and asyncpg reuse the prepared statement. Measured (bench/throughput.service_load):
    # folding the audit INSERT in and sending a use case's events together took intake's
    # Python CPU per order (with the Core INSERTs of the same change) from 5.0 to 3.2 ms.
    rows = ", ".join(f"(:event_id{i}, :topic{i}, :key{i}, :event{i})" for i in range(n))
    params = [bindparam(f"event{i}", type_=JSONB) for i in range(n)]
    ctes = []
    if with_audit:
        cols = audit.ENTRY_COLUMNS
        values = ", ".join("(" + ", ".join(f":a_{c}{i}" for c in cols) + ")" for i in range(n))
        ctes.append(f"aud AS (INSERT INTO audit_log ({', '.join(cols)}) VALUES {values})")
        params += [bindparam(f"a_{c}{i}", type_=JSONB) for i in range(n) for c in ("roles", "detail")]
    ctes.append(
        f'ins AS (INSERT INTO "{table_name}" (event_id, topic, key, event) VALUES {rows} RETURNING 1)'
    )
    return text(f"WITH {', '.join(ctes)} SELECT pg_notify('{channel}', '') FROM ins LIMIT 1").bindparams(
        *params
    )


@lru_cache(maxsize=256)
def _enqueue_fast(table_name: str, channel: str, n: int, with_audit: bool) -> FastStatement:
    return FastStatement(_enqueue_statement(table_name, channel, n, with_audit))


async def enqueue(
    session: AsyncSession, table: Table, *, service: str, topic: str, key: str | None, event: Envelope
) -> None:
    """Add an event to the outbox inside the caller's transaction (never commits).

    The NOTIFY is delivered at commit (never for a rolled-back row); many with the same
    payload in one transaction fold into one. The same statement appends the audit entry
    for the state change (libs.common.audit)."""
    await enqueue_many(session, table, service=service, events=[(topic, key, event)])


async def enqueue_many(
    session: AsyncSession, table: Table, *, service: str, events: Sequence[tuple[str, str | None, Envelope]]
) -> None:
    """Several events of one use case in one statement (same guarantees as `enqueue`)."""
    if not events:
        return
    with_audit = await audit.enabled(session)
    params: dict[str, Any] = {}
    for i, (topic, key, event) in enumerate(events):
        guard_payload(event)
        params |= {f"event_id{i}": event.id, f"topic{i}": topic, f"key{i}": key, f"event{i}": event.to_json()}
        if with_audit:
            entry = audit.event_entry(service=service, topic=topic, key=key, event=event)
            params |= {f"a_{c}{i}": entry[c] for c in audit.ENTRY_COLUMNS}
    await _enqueue_fast(table.name, notify_channel(service), len(events), with_audit).execute(session, params)


class OutboxRelay:
    """Publishes this service's outbox rows, in id order, and keeps them published.

    Published rows are kept for `retention` (default 7 days, Kafka's default retention) and
    then purged (`purge_published`, every `purge_seconds`, in batches, logged). When the broker lost its data (`watch` reports a new epoch, or sends come back
    with lower offsets than before), every row published within `retention` is published
    again: consumers de-duplicate by event id, so this is harmless, and it is what brings a
    broker that came back empty up to date — work orders, dispatch decisions, case events and
    credentials alike. Which epoch the rows were last republished for is kept in the
    database (`pipeline_state`), so a relay that died in between republishes after restart,
    and of several replicas exactly one does it."""

    EPOCH_KEY = "relay_epoch"

    def __init__(
        self,
        *,
        dsn: str,
        service: str,
        producer: AIOKafkaProducer,
        bootstrap: str,
        topics: list[str],
        poll_seconds: float = 1.0,
        batch_size: int = 200,
        watch: BrokerWatch | None = None,
        retention: timedelta = timedelta(days=7),
        purge_seconds: float = 600.0,
        on_notify: Callable[[], None] | None = None,
    ) -> None:
        self.dsn, self.service, self.producer, self.bootstrap = dsn, service, producer, bootstrap
        self.topics = topics
        self.poll_seconds, self.batch_size = poll_seconds, batch_size
        self.drains = self.empty_drains = 0  # transactions run / of them found nothing to send
        self.watch, self.retention, self.purge_seconds = watch, retention, purge_seconds
        self._wake = asyncio.Event()
        self._on_notify = on_notify  # someone else woken by the same commits (the audit chainer)
        self._pool: asyncpg.Pool | None = None
        self._listen: asyncpg.Connection | None = None
        self._epoch: str | None = None  # the broker epoch our published rows are known to be in
        self._ends: dict[tuple[str, int], int] = {}  # last offset each partition gave us
        self._purged_at = 0.0
        self.requeued_at = 0.0  # wall-clock time of the last republish
        self._failed_at: float | None = None  # monotonic time of the last failed drain
        self.published = 0
        self.republished = 0  # rows published again after a broker reset
        self.purged = 0
        self.failures = 0  # failed drains (the broker or the database away)
        self.last_error: str | None = None
        if watch is not None:
            watch.subscribe(self._wake.set)

    async def run(self) -> None:
        backoff = Backoff(first=0.2, cap=5.0)  # while the broker or the database is away
        while True:
            try:
                await self._connect()
                while True:
                    if self.watch is not None:
                        await self.watch.known.wait()  # topics exist and the epoch is known
                        await self._checked_since_failure(self.watch)
                        await self._follow_epoch(self.watch.epoch)  # type: ignore[arg-type]
                    # Cleared before the drain, not after: a row committed after the drain's
                    # snapshot NOTIFYs after this point, so its wake is kept and the loop comes
                    # straight back for it. Hence a drain that found less than a batch is the
                    # last one — no empty transaction to prove it (one per order in intake,
                    # pg_stat_statements: bench/statements.py).
                    self._wake.clear()
                    while await self.drain_once() >= self.batch_size:
                        pass
                    backoff.reset()
                    self.last_error = None
                    await self._purge_if_due()
                    await wait_event(self._wake, self.poll_seconds)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or DB away: keep the rows, retry later
                self.failures += 1
                self._failed_at = time.monotonic()
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("outbox relay paused: %s", self.last_error)
                await backoff.sleep()
                if self.watch is not None:
                    self.watch.poke()  # a restarted broker: topics and epoch checked at once
                else:
                    with contextlib.suppress(Exception):
                        await ensure_topics(self.bootstrap, self.topics)
                if self._listen is not None and self._listen.is_closed():
                    self._listen = None

    async def _connect(self) -> None:
        if self._pool is None:
            self._pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=2, reset=_unchanged)
        if self._listen is None:
            self._listen = await asyncpg.connect(self.dsn)
            await self._listen.add_listener(notify_channel(self.service), self._notified)

    def _notified(self, *_: object) -> None:
        self._wake.set()
        if self._on_notify is not None:
            self._on_notify()

    def _connected(self) -> asyncpg.Pool:
        """The relay's pool (made by `_connect`, which `run` calls first)."""
        if self._pool is None:
            raise RuntimeError("outbox relay not connected: no pool before run() has connected")
        return self._pool

    async def _checked_since_failure(self, watch: BrokerWatch) -> None:
        """After a failed drain, send nothing until the watch has checked the broker again. A
        broker that came back empty then has its new epoch known (and the window republished,
        in id order) before any newer row reaches it: sending at once put a row accepted during
        the outage into the new log ahead of an older row of the same key that the old broker
        had acknowledged but no one had consumed (tests/integration/test_broker_reset.py)."""
        if self._failed_at is None:
            return
        watch.poke()
        await watch.checked_after(self._failed_at)
        self._failed_at = None

    async def _follow_epoch(self, epoch: str) -> None:
        if epoch == self._epoch:
            return
        async with self._connected().acquire() as conn, conn.transaction():
            before = await conn.fetchval(
                "SELECT value FROM pipeline_state WHERE key = $1 FOR UPDATE", self.EPOCH_KEY
            )
            if before is None:  # first run against any broker: nothing was published elsewhere
                await conn.execute(
                    "INSERT INTO pipeline_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                    self.EPOCH_KEY,
                    epoch,
                )
            elif before != epoch:
                status = await conn.execute(
                    "UPDATE outbox SET published_at = NULL WHERE published_at >= now() - $1::interval",
                    self.retention,
                )
                n = int(status.split()[-1])
                await conn.execute(
                    "UPDATE pipeline_state SET value = $2, updated_at = now() WHERE key = $1",
                    self.EPOCH_KEY,
                    epoch,
                )
                self.republished += n
                self.requeued_at = time.time()
                self._ends.clear()
                log.warning(
                    "broker epoch %s -> %s: republishing %d outbox rows of the last %s",
                    before,
                    epoch,
                    n,
                    self.retention,
                )
        self._epoch = epoch

    async def drain_once(self) -> int:
        async with self._connected().acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, topic, key, event FROM outbox WHERE published_at IS NULL "
                "ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                self.batch_size,
            )
            self.drains += 1
            if not rows:
                self.empty_drains += 1
                return 0
            sends = [(r["topic"], Envelope.from_json(_json(r["event"])), r["key"]) for r in rows]
            with tracing.sending([(t, env) for t, env, _ in sends], self.service):
                futures = []
                for t, env, key in sends:
                    headers, value = env.to_kafka()
                    k = key.encode() if key else None
                    futures.append(await self.producer.send(t, value=value, key=k, headers=headers))
                # If the broker fails here the transaction rolls back and the rows stay unpublished.
                self._note_offsets(await asyncio.gather(*futures))
            await conn.execute(
                "UPDATE outbox SET published_at = now() WHERE id = ANY($1)", [r["id"] for r in rows]
            )
            self.published += len(rows)
            return len(rows)

    def _note_offsets(self, sent: list[Any]) -> None:
        """A partition's offsets only grow — unless the broker lost the log: then check now
        instead of at the watch's next round (fewer rows published into the new log before
        the older ones are republished)."""
        backwards = False
        for md in sent:
            k = (md.topic, md.partition)
            backwards |= md.offset < self._ends.get(k, -1)
            self._ends[k] = md.offset
        if backwards and self.watch is not None:
            log.warning("offsets went backwards on a partition: asking whether the broker lost its data")
            self.watch.poke()

    async def _purge_if_due(self) -> None:
        if time.monotonic() - self._purged_at < self.purge_seconds:
            return
        self._purged_at = time.monotonic()
        await self.purge_published()

    async def purge_published(self, *, batch: int = 5000) -> int:
        """Delete the rows published longer ago than the republish window (no longer needed:
        a broker reset republishes only rows published within it), oldest first, in batches
        of `batch`, each its own short statement. Unpublished rows are never touched, however
        old. Returns how many went (and logs it)."""
        pool = self._connected()
        total = 0
        while True:
            status = await pool.execute(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE published_at < now() - $1::interval "
                "ORDER BY published_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
                self.retention,
                batch,
            )
            n = int(status.split()[-1])
            total += n
            if n < batch:
                break
        self.purged += total
        if total:
            log.info(
                "%s: purged %d outbox rows published more than %s ago", self.service, total, self.retention
            )
        return total

    async def oldest_unpublished_age(self) -> float:
        """Seconds the oldest waiting row has waited (0: none waits). A republished row waits
        from its republish, not from its creation days ago."""
        if self._pool is None:
            return 0.0
        created = await self._pool.fetchval(
            "SELECT created_at FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT 1"
        )
        if created is None:
            return 0.0
        waiting_since = max(created.timestamp(), self.requeued_at)
        return max(0.0, time.time() - waiting_since)

    async def close(self) -> None:
        if self._listen is not None:
            with contextlib.suppress(Exception):
                await self._listen.close()
        if self._pool is not None:
            with contextlib.suppress(Exception):
                await self._pool.close()


def _json(v: Any) -> dict[str, Any]:
    return orjson.loads(v) if isinstance(v, str | bytes) else v


async def _unchanged(conn: asyncpg.Connection) -> None:
    """The relay's pool hands a connection back as it is: the relay takes no session lock, sets
    nothing and listens on its own connection, so asyncpg's default reset (advisory unlock, CLOSE
    ALL, UNLISTEN, RESET ALL) was four statements per drain for nothing — about one per order
    in PostgreSQL's count (bench/statements.py). A transaction left open is still rolled back:
    asyncpg does that before it calls this."""
