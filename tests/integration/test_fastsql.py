"""libs/common/fastsql: a statement sent past the session still belongs to the session's
transaction, binds values as SQLAlchemy would and fails as SQLAlchemy would."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from libs.common.db import make_engine, make_sessionmaker
from libs.common.fastsql import FastStatement
from libs.common.transient import is_transient
from services.intake.create import EMPTY_ROW
from services.intake.models import WorkOrder

ORDERS = WorkOrder.__table__
INSERT = FastStatement(insert(ORDERS))
COUNT = FastStatement(select(text("count(*)")).select_from(ORDERS).where(ORDERS.c.number == bindparam("n")))
NOW_FAST = FastStatement(text("SELECT now()"))


def order(number: str) -> dict:
    now = datetime.now(UTC)
    row = EMPTY_ROW | dict(
        id=uuid.uuid4(), number=number, channel="web", status="received", service_type="consultation",
        region_code="140402", county_code="140402", requester_name="张三", requester_phone="13800000000",
        description="工资被拖欠三个月", special_groups=["elderly", "migrant_worker"], urgency="normal",
        channel_details={"web": {"来源": "网站"}, "region_path": ["山西省", "长治市"]},
        classification={"service_type": "consultation", "confidence": 0.75}, party_indexes=[],
        created_by="op", created_at=now, updated_at=now,
    )  # fmt: skip
    return {c.key: row[c.key] for c in ORDERS.columns}


async def test_runs_in_the_sessions_transaction_and_binds_like_sqlalchemy(infra):
    url = await infra.fresh_database("intake", seed=False)
    engine = make_engine(url, pool_size=2)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as session:
            # The first statement of the session: it must open the transaction itself.
            async with session.begin():
                fast_now = await NOW_FAST.fetchval(session)
                await INSERT.execute(session, order("A-1"))
                assert fast_now == (await session.execute(text("SELECT now()"))).scalar()  # one transaction
                await session.rollback()
            async with session.begin():  # a new transaction in the same session: not the old one
                assert await COUNT.fetchval(session, {"n": "A-1"}) == 0
                values = order("A-2")
                await INSERT.execute(session, values)
        async with sessions() as session:
            saved = (await session.scalars(select(WorkOrder).where(WorkOrder.number == "A-2"))).one()
            assert saved.id == values["id"]
            assert saved.channel_details == values["channel_details"]  # JSONB through its type
            assert saved.classification == values["classification"]
            assert saved.special_groups == ["elderly", "migrant_worker"]
            assert saved.requester_name == "张三"

        with pytest.raises(IntegrityError):  # the same exception the session would raise
            async with sessions() as session, session.begin():
                await INSERT.execute(session, values)
        with pytest.raises(ValueError, match="'n'"):  # a missing value is named, never sent as NULL
            async with sessions() as session, session.begin():
                await COUNT.fetchval(session, {})
        with pytest.raises(ValueError, match="id \\(its default\\)"):  # SQLAlchemy would have made one
            async with sessions() as session, session.begin():
                await INSERT.execute(session, {k: v for k, v in order("A-3").items() if k != "id"})
    finally:
        await engine.dispose()


async def test_a_lost_connection_is_invalidated_and_the_next_session_gets_a_fresh_one(infra):
    url = await infra.fresh_database("intake", seed=False)
    engine = make_engine(url, pool_size=1)
    sessions = make_sessionmaker(engine)
    try:
        with pytest.raises(DBAPIError) as lost:
            async with sessions() as session, session.begin():
                pid = await FastStatement(text("SELECT pg_backend_pid()")).fetchval(session)
                async with sessions() as other, other.begin():  # (pool overflow: a second one)
                    await other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
                await NOW_FAST.fetchval(session)
        assert lost.value.connection_invalidated
        async with sessions() as session, session.begin():  # the pool did not hand out the dead one
            assert await FastStatement(text("SELECT pg_backend_pid()")).fetchval(session) != pid
    finally:
        await engine.dispose()


async def test_a_connection_closed_while_pooled_fails_as_a_lost_one_and_is_not_handed_out_again(infra):
    """Seen under PostgreSQL `kill -9`: the pooled connection is already closed when a
    FastStatement opens the transaction on it. The adapter's own BEGIN fails with its DB-API
    InterfaceError; it must come back as SQLAlchemy's, invalidated (so transient, retried), and
    never reach the next session."""
    url = await infra.fresh_database("intake", seed=False)
    engine = make_engine(url, pool_size=1)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as session, session.begin():
            pid = await FastStatement(text("SELECT pg_backend_pid()")).fetchval(session)
        killer = make_engine(url, pool_size=1)  # (the pooled one is idle: another engine kills it)
        try:
            async with killer.begin() as conn:
                await conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        finally:
            await killer.dispose()
        await asyncio.sleep(0.2)  # the driver has seen the socket close
        with pytest.raises(DBAPIError) as lost:
            async with sessions() as session, session.begin():
                await NOW_FAST.fetchval(session)
        assert lost.value.connection_invalidated, lost.value
        assert is_transient(lost.value)
        async with sessions() as session, session.begin():
            assert await FastStatement(text("SELECT pg_backend_pid()")).fetchval(session) != pid
    finally:
        await engine.dispose()
