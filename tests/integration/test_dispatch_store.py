"""services/dispatch/store.py: routing writes the order's state with its own UPDATE and the
session agrees with the database afterwards — nothing is left for the ORM to write again at
commit, the objects handed back read without a reload, and a cold path's own ORM changes to
the same order are kept. Real PostgreSQL; orders through service.route_new_order."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event, select

from libs.common.db import make_engine, make_sessionmaker
from libs.common.events import intake
from libs.common.events.envelope import make_event
from libs.common.handlers import parse
from services.dispatch import service, store
from services.dispatch.models import Assignment, OrderSnapshot
from tests.integration.test_dispatch_offers import QINXIAN, TUESDAY_10
from tests.integration.test_dispatch_scale import created


@pytest.fixture
async def db(infra):
    engine = make_engine(await infra.fresh_database("dispatch"), pool_size=2)
    sent: list[str] = []
    event.listen(
        engine.sync_engine,
        "connect",
        lambda dbapi, _rec: dbapi.driver_connection.add_query_logger(lambda q: sent.append(q.query)),
    )
    yield make_sessionmaker(engine), sent
    await engine.dispose()


async def test_a_routed_order_is_written_once_and_reads_as_saved(db):
    sessions, sent = db
    ev = make_event(intake.WORKORDER_CREATED, source=intake.SOURCE, payload=created(QINXIAN, 1, TUESDAY_10))
    order_id = uuid.UUID(ev.data["work_order_id"])
    async with sessions() as session:
        async with session.begin():
            offer = await service.route_new_order(
                session, event=ev, data=parse(intake.WorkOrderCreatedV1, ev), now=TUESDAY_10
            )
            assert offer is not None and offer.status == "offered"  # no reload needed
            order = await session.get(OrderSnapshot, order_id)  # the store's object, from the session
            assert order is not None
            assert (order.status, order.offers_made, order.event_seq) == ("offered", 1, 1)
            assert order.weight >= 1
            assert not session.new and not session.dirty  # nothing for the unit of work
            sent.clear()
        # The commit sends nothing but its COMMIT: no UPDATE of what the store wrote already.
        assert [q for q in sent if not q.strip().upper().startswith("COMMIT")] == []
    async with sessions() as session:
        saved = await session.get(OrderSnapshot, order_id)
        assert saved is not None
        assert (saved.status, saved.offers_made, saved.event_seq, saved.weight) == (
            "offered",
            1,
            1,
            order.weight,
        )
        assert (
            await session.scalar(select(Assignment.id).where(Assignment.work_order_id == order_id))
        ) == offer.id


async def test_a_cold_paths_own_changes_to_the_order_are_kept_beside_the_stores(db):
    sessions, _ = db
    ev = make_event(intake.WORKORDER_CREATED, source=intake.SOURCE, payload=created(QINXIAN, 2, TUESDAY_10))
    order_id = uuid.UUID(ev.data["work_order_id"])
    async with sessions() as session, session.begin():
        await service.route_new_order(
            session, event=ev, data=parse(intake.WorkOrderCreatedV1, ev), now=TUESDAY_10
        )
    async with sessions() as session, session.begin():
        order = await session.get(OrderSnapshot, order_id, with_for_update=True)
        assert order is not None
        order.description = "补充了情况说明"  # the ORM's column: flushed as usual
        await store.update_order(session, order, status="escalated", escalated_at=TUESDAY_10, event_seq=2)
        assert order.status == "escalated" and order.description == "补充了情况说明"
        with pytest.raises(ValueError, match="handler_staff_id"):
            await store.update_order(session, order, handler_staff_id=None)  # not routing state
    async with sessions() as session:
        saved = await session.get(OrderSnapshot, order_id)
        assert saved is not None
        assert (saved.status, saved.event_seq, saved.description) == ("escalated", 2, "补充了情况说明")
