"""Tables every service's database has for its delivery pipeline, besides outbox and inbox:

- `pipeline_state`: small facts the pipeline must remember across restarts — which broker
  epoch this service's relay has republished for and its consumer has replayed from
  (libs.common.broker_watch). Kept in the database, not in memory: a process that dies
  between a broker reset and its repair must still repair after it restarts.
- `dead_letters`: records a consumer could not handle (libs.common.deadletters). The topic
  copy lives in the broker, which may forget it; this one does not.

Like the audit log, one Table object serves every service (same name and shape in each
database); the shared Alembic branch "pipeline" (libs.common.pipeline_migrations) creates them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

metadata = MetaData()

PIPELINE_STATE = Table(
    "pipeline_state",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

DEAD_LETTERS = Table(
    "dead_letters",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("consumer", String(64), nullable=False),  # the consuming service
    Column("event_id", String(64)),  # NULL: the record was not even a CloudEvent
    Column("event_type", String(200)),
    Column("topic", String(200), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("key", Text),
    Column("headers", JSONB, nullable=False),  # [[name, value as text], …] of the original record
    Column("value", LargeBinary, nullable=False),
    Column("error", Text, nullable=False),
    Column("failures", Integer, nullable=False, server_default="1"),
    # open: waiting for a person | replayed: sent back to its topic | discarded: judged not needed
    Column("status", String(16), nullable=False, server_default="open"),
    Column("first_failed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_failed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("replays", Integer, nullable=False, server_default="0"),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_by", String(200)),
    Column("note", Text),
    # One row per failing event: a replay that fails again counts on the same row.
    Index("uq_dead_letters_event", "event_id", unique=True, postgresql_where=text("event_id IS NOT NULL")),
    Index("ix_dead_letters_open", "id", postgresql_where=text("status = 'open'")),
)

TABLE_NAMES = frozenset({"pipeline_state", "dead_letters"})


async def get_state(session: AsyncSession, key: str) -> str | None:
    return await session.scalar(select(PIPELINE_STATE.c.value).where(PIPELINE_STATE.c.key == key))


async def claim_state(session: AsyncSession, key: str, value: str) -> bool:
    """Set `key` to `value` unless it already is; True if this call changed it. Several
    replicas racing to handle the same broker reset: exactly one of them wins."""
    ins = insert(PIPELINE_STATE).values(key=key, value=value)
    stmt = ins.on_conflict_do_update(
        index_elements=["key"],
        set_={"value": ins.excluded.value, "updated_at": func.now()},
        where=PIPELINE_STATE.c.value.is_distinct_from(ins.excluded.value),
    ).returning(PIPELINE_STATE.c.key)
    return (await session.execute(stmt)).first() is not None
