"""The two traps of sending statements past the session, closed in libs/common/fastsql:
a pending `session.add()` is seen by a FastStatement SELECT in the same transaction (it
autoflushes, as `session.execute` would), and after a FastStatement UPDATE the session's
cached object is read again, never shown with its old value. Real PostgreSQL."""

import pytest
from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm.attributes import set_committed_value

from libs.common.db import make_engine, make_sessionmaker
from libs.common.fastsql import FastStatement, PendingChangesError
from services.intake.models import WorkOrder
from tests.integration.test_fastsql import COUNT, INSERT, order

ORDERS = WorkOrder.__table__
SET_STATUS = FastStatement(update(ORDERS).where(ORDERS.c.id == bindparam("k")).values(status=bindparam("s")))
STATUS = FastStatement(select(ORDERS.c.status).where(ORDERS.c.id == bindparam("k")))


@pytest.fixture
async def sessions(infra):
    engine = make_engine(await infra.fresh_database("intake", seed=False), pool_size=2)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def test_a_pending_add_is_seen_by_a_fast_select(sessions):
    async with sessions() as session, session.begin():
        session.add(WorkOrder(**order("P-1")))
        assert await COUNT.fetchval(session, {"n": "P-1"}) == 1  # flushed first, as autoflush does
        assert not session.new
        with session.no_autoflush:  # the caller said "not now": as for session.execute, unseen
            session.add(WorkOrder(**order("P-2")))
            assert await COUNT.fetchval(session, {"n": "P-2"}) == 0
        assert await COUNT.fetchval(session, {"n": "P-2"}) == 1


async def test_a_dirty_object_is_flushed_before_a_fast_statement_reads_its_row(sessions):
    values = order("D-1")
    async with sessions() as session, session.begin():
        await INSERT.execute(session, values)
    async with sessions() as session, session.begin():
        loaded = await session.get(WorkOrder, values["id"])
        assert loaded is not None
        loaded.status = "dispatched"
        assert await STATUS.fetchval(session, {"k": values["id"]}) == "dispatched"


async def test_after_a_fast_update_the_cached_object_is_read_again(sessions):
    values = order("U-1")
    async with sessions() as session, session.begin():
        await INSERT.execute(session, values)
    async with sessions() as session, session.begin():
        cached = await session.get(WorkOrder, values["id"])
        assert cached is not None and cached.status == "received"
        await SET_STATUS.execute(session, {"k": values["id"], "s": "closed"})
        again = await session.get(WorkOrder, values["id"])
        assert again is cached and again.status == "closed"  # not the old value
        queried = (await session.scalars(select(WorkOrder).where(WorkOrder.id == values["id"]))).one()
        assert queried.status == "closed"
    async with sessions() as session, session.begin():
        assert (await session.get(WorkOrder, values["id"])).status == "closed"  # nothing flushed back


async def test_an_object_kept_in_step_by_its_caller_is_neither_flushed_nor_expired(sessions):
    values = order("S-1")
    async with sessions() as session, session.begin():
        await INSERT.execute(session, values)
    async with sessions() as session, session.begin():
        mine = await session.get(WorkOrder, values["id"])
        assert mine is not None
        await SET_STATUS.execute(session, {"k": mine.id, "s": "closed"}, in_step=(mine,))
        set_committed_value(mine, "status", "closed")
        assert mine.status == "closed" and mine not in session.dirty  # readable without a reload
        assert (
            await session.execute(text("SELECT status FROM work_orders WHERE id = :k"), {"k": mine.id})
        ).scalar() == "closed"


async def test_inside_no_autoflush_an_update_over_unflushed_changes_is_refused(sessions):
    values = order("R-1")
    async with sessions() as session, session.begin():
        await INSERT.execute(session, values)
    async with sessions() as session:
        async with session.begin():
            loaded = await session.get(WorkOrder, values["id"])
            assert loaded is not None
            with session.no_autoflush:
                loaded.description = "改过的描述"
                with pytest.raises(PendingChangesError, match="work_orders"):
                    await SET_STATUS.execute(session, {"k": values["id"], "s": "closed"})
                await COUNT.fetchval(session, {"n": "R-1"})  # a read is not refused
            await session.rollback()


async def test_an_upsert_that_updates_counts_as_a_write():
    from sqlalchemy.dialects.postgresql import insert

    from services.intake.models import OrderHandler

    table = OrderHandler.__table__
    stmt = insert(table).values({c.name: bindparam(c.name) for c in table.columns})
    assert FastStatement(stmt.on_conflict_do_nothing()).rewrites is None
    updating = stmt.on_conflict_do_update(
        index_elements=["assignment_id"], set_={"state": stmt.excluded.state}
    )
    assert FastStatement(updating).rewrites is table
    assert FastStatement(select(ORDERS.c.id)).rewrites is None
