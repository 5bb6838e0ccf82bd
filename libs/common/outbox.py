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

from libs.common import audit
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
    session: AsyncSession, table: Table, *, service: str, events: list[tuple[str, str | None, Envelope]]
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
    ) -> None:
        self.dsn, self.service, self.producer, self.bootstrap = dsn, service, producer, bootstrap
        self.topics = topics
        self.poll_seconds, self.batch_size = poll_seconds, batch_size
        self._wake = asyncio.Event()
        self._pool: asyncpg.Pool | None = None
        self._listen: asyncpg.Connection | None = None
        self.published = 0

    async def run(self) -> None:
        backoff = 0.2
        while True:
            try:
                await self._connect()
                while True:
                    while await self.drain_once():
                        pass
                    backoff = 0.2
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or DB away: keep the rows, retry later
                log.warning("outbox relay paused: %s", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                # A broker that restarted empty (the embedded one keeps nothing) needs its topics back.
                with contextlib.suppress(Exception):
                    await ensure_topics(self.bootstrap, self.topics)
                if self._listen is not None and self._listen.is_closed():
                    self._listen = None

    async def _connect(self) -> None:
        if self._pool is None:
            self._pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=2)
        if self._listen is None:
            self._listen = await asyncpg.connect(self.dsn)
            await self._listen.add_listener(notify_channel(self.service), lambda *_: self._wake.set())

    async def drain_once(self) -> int:
        assert self._pool is not None
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, topic, key, event FROM outbox WHERE published_at IS NULL "
                "ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                self.batch_size,
            )
            if not rows:
                return 0
            futures = []
            for r in rows:
                env = Envelope.from_json(_json(r["event"]))
                headers, value = env.to_kafka()
                key = r["key"].encode() if r["key"] else None
                futures.append(await self.producer.send(r["topic"], value=value, key=key, headers=headers))
            # If the broker fails here the transaction rolls back and the rows stay unpublished.
            await asyncio.gather(*futures)
            await conn.execute(
                "UPDATE outbox SET published_at = now() WHERE id = ANY($1)", [r["id"] for r in rows]
            )
            self.published += len(rows)
            return len(rows)

    async def close(self) -> None:
        if self._listen is not None:
            with contextlib.suppress(Exception):
                await self._listen.close()
        if self._pool is not None:
            with contextlib.suppress(Exception):
                await self._pool.close()


def _json(v: Any) -> dict[str, Any]:
    return orjson.loads(v) if isinstance(v, str | bytes) else v
