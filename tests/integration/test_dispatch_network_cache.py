"""Routing's cached network stays current: every admin change (new staff, roster, sign-out,
leave, deactivation, holidays) and a hand-made UPDATE show on the very next order — also on
another instance (its own engine and cache) — while routing's own load bookkeeping never
invalidates it. Real PostgreSQL; orders through service.route_new_order as the consumer does."""

from __future__ import annotations

import uuid
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select, text, update

from libs.common.auth import Principal
from libs.common.db import make_engine, make_sessionmaker
from libs.common.events import intake
from libs.common.events.envelope import make_event
from libs.common.handlers import parse
from services.dispatch import admin, service
from services.dispatch import schemas as s
from services.dispatch.models import Decision, NetworkVersion, OrderSnapshot, ServicePoint, Staff
from tests.integration.test_dispatch_offers import QINXIAN, TUESDAY_10
from tests.integration.test_dispatch_scale import created

ADMIN = Principal(sub="admin", kind="staff", roles=frozenset({"admin"}), region="1404", name="管理员")


@pytest.fixture
async def instances(infra):
    """Two 'instances': one database, an engine (and so a network cache) each."""
    url = await infra.fresh_database("dispatch")
    a, b = make_engine(url, pool_size=4), make_engine(url, pool_size=4)
    yield make_sessionmaker(a), make_sessionmaker(b)
    await a.dispose()
    await b.dispose()


async def route(sessions, n: int, now=TUESDAY_10) -> tuple[str | None, dict]:  # type: ignore[no-untyped-def]
    """Route one legal-aid order of 沁县; the chosen staff id and the decision's candidates by id."""
    event = make_event(intake.WORKORDER_CREATED, source=intake.SOURCE, payload=created(QINXIAN, n, now))
    async with sessions() as session, session.begin():
        offer = await service.route_new_order(
            session, event=event, data=parse(intake.WorkOrderCreatedV1, event), now=now
        )
        decision = await session.scalar(
            select(Decision).where(Decision.work_order_id == uuid.UUID(event.data["work_order_id"]))
        )
    return (str(offer.staff_id) if offer else None), {c["staff_id"]: c for c in decision.candidates}


async def version(sessions) -> int:  # type: ignore[no-untyped-def]
    async with sessions() as session:
        return await session.scalar(select(NetworkVersion.version))


async def test_admin_changes_reach_the_next_order_on_every_instance(instances):
    one, two = instances
    await route(two, 0)  # instance two's cache is warm from here on
    async with one() as session, session.begin():
        officers = list(
            await session.scalars(
                select(Staff)
                .where(Staff.county_code == QINXIAN, Staff.role == "aid_officer")
                .order_by(Staff.code)
            )
        )
        centre = await session.scalar(
            select(ServicePoint).where(ServicePoint.county_code == QINXIAN, ServicePoint.tier == "county")
        )
        keep = officers[0]
        # A hand-made UPDATE, no admin endpoint: one aid officer left in the county and the city.
        await session.execute(
            update(Staff).where(Staff.role == "aid_officer", Staff.id != keep.id).values(active=False)
        )
    chosen, _ = await route(two, 1)
    assert chosen == str(keep.id)

    # New staff, with a roster: created on instance one, seen by instance two's next order.
    async with one() as session, session.begin():
        newcomer = await admin.create_staff(
            session,
            body=s.StaffIn(
                code="QX-AID-NEW", name="新来的援助专员", role="aid_officer", skills=["legal_aid"],
                levels={"legal_aid": 5}, service_point_id=centre.id, capacity=5,
            ),
            who=ADMIN,
            now=TUESDAY_10,
        )  # fmt: skip
        await admin.set_roster(
            session,
            staff_id=newcomer.id,
            body=s.RosterIn(
                slots=[s.RosterSlotIn(weekday=d, start=time(8, 30), end=time(17, 30)) for d in range(5)]
            ),
            who=ADMIN,
            now=TUESDAY_10,
        )
    chosen, candidates = await route(two, 2)
    assert str(newcomer.id) in candidates
    assert chosen == str(newcomer.id)  # idle and proficient: beats `keep`, who has one order already

    # Sign-out: off duty for the rest of today.
    async with one() as session, session.begin():
        await admin.sign(session, staff_id=newcomer.id, who=ADMIN, now=TUESDAY_10, signing_in=False)
    chosen, candidates = await route(two, 3)
    assert chosen == str(keep.id)
    assert candidates[str(newcomer.id)]["on_duty"] is False

    # Leave for `keep`: nobody on duty today → the first to come on duty (the newcomer, tomorrow).
    async with one() as session, session.begin():
        await admin.add_leave(
            session,
            staff_id=keep.id,
            body=s.LeaveIn(start_date=date(2026, 11, 24), end_date=date(2026, 11, 30)),
            who=ADMIN,
            now=TUESDAY_10,
        )
    chosen, candidates = await route(two, 4)
    assert chosen == str(newcomer.id)
    assert candidates[str(newcomer.id)]["next_duty"].startswith("2026-11-25T08:30")

    # Deactivation through the admin endpoint: gone from the next decision altogether.
    async with one() as session, session.begin():
        await admin.patch_staff(
            session, staff_id=newcomer.id, body=s.StaffPatch(active=False), who=ADMIN, now=TUESDAY_10
        )
    chosen, candidates = await route(two, 5)
    assert str(newcomer.id) not in candidates
    assert chosen == str(keep.id)  # back from leave on 1 December: the only one left


async def test_a_holiday_entered_by_an_admin_moves_the_next_orders_deadline(instances):
    one, two = instances

    async def transfer_due(n: int):  # type: ignore[no-untyped-def]
        async with two() as session:
            return await session.scalar(
                select(OrderSnapshot.transfer_due).where(OrderSnapshot.number == f"LW{QINXIAN}{n:04d}")
            )

    await route(two, 1)
    assert await transfer_due(1) == TUESDAY_10 + timedelta(days=1)  # one working day: Wednesday 10:00
    async with one() as session, session.begin():
        await admin.put_calendar_year(
            session,
            year=2026,
            body=s.CalendarYearIn(holidays=[date(2026, 11, 25)]),
            who=ADMIN,
            now=TUESDAY_10,
        )
    await route(two, 2)
    assert await transfer_due(2) == TUESDAY_10 + timedelta(days=2)  # Wednesday is off: Thursday


async def test_routing_its_own_load_bookkeeping_keeps_the_cache(instances):
    one, _ = instances
    before = await version(one)
    for n in range(3):
        await route(one, n)
    async with one() as session, session.begin():  # what closing an order does to the load
        await session.execute(update(Staff).values(active_load=func.greatest(Staff.active_load - 1, 0)))
    assert await version(one) == before


async def test_every_staff_column_but_the_load_bookkeeping_bumps_the_version(instances):
    one, _ = instances
    async with one() as session:
        watched = set(
            await session.scalars(
                text(
                    "SELECT event_object_column FROM information_schema.triggered_update_columns "
                    "WHERE trigger_name = 'staff_update_bumps_network_version'"
                )
            )
        )
    columns = {c.name for c in Staff.__table__.columns}
    assert watched == columns - {"active_load", "last_assigned_at"}
