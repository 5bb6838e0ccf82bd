"""Shared setup for the order-lifecycle tests (issue #15): intake and dispatch on real PostgreSQL
and a broker of their own — their events reach no other test's consumers, and their starts and
stops never make the shared consumer groups rebalance — plus readers of both sides' state."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from datetime import UTC, datetime

from sqlalchemy import text

from libs.common.auth import ROLES
from libs.common.clock import FrozenClock
from libs.common.embedded import EmbeddedBroker, free_port
from libs.common.testing.auth import auth
from libs.common.testing.infra import consumers_ready, services, wait_for

QINXIAN, WUXIANG = "140430", "140429"  # 沁县, 武乡县
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in China: county centres on duty
OPERATOR = auth("operator", region="1404", staff_id="00000000-0000-4000-8000-00000000c001")
SUPERVISOR = auth("supervisor", region="1404", staff_id="00000000-0000-4000-8000-00000000c002")
ADMIN = auth("admin", region="")


@contextlib.asynccontextmanager
async def lifecycle_stack(infra, clock: FrozenClock):  # type: ignore[no-untyped-def]
    broker = EmbeddedBroker(free_port()).start()
    try:
        private = dataclasses.replace(infra, bootstrap=broker.bootstrap)
        async with services(private, "intake", "dispatch", clock=clock) as running:
            await consumers_ready(*running.values())
            yield running
    finally:
        broker.stop()


def body(county: str = QINXIAN, phone: str | None = None, **over) -> dict:  # type: ignore[no-untyped-def]
    """A legal-aid request (a different requester each time unless told: no automatic 并单)."""
    phone = phone or f"139{uuid.uuid4().int % 10**8:08d}"
    out = {
        "channel": "hotline",
        "requester": {"name": "王秀英", "phone": phone},
        "region_code": f"{county}003",
        "service_type": "legal_aid",
        "domain": "labor",
        "description": "老板拖欠我三个月工资一万八，想申请法律援助。",
    }
    return out | over


async def create(intake, **over) -> dict:  # type: ignore[no-untyped-def]
    """The created order, with the requester's `phone` (for the citizen's tracking page)."""
    sent = body(**over)
    async with intake.client(headers=OPERATOR) as c:
        r = await c.post("/v1/work-orders", json=sent)
        assert r.status_code == 201, r.text
        return r.json() | {"phone": sent["requester"]["phone"]}


async def rows(svc, sql: str, **params) -> list[dict]:  # type: ignore[no-untyped-def]
    async with svc.rt.sessionmaker() as s:
        return [dict(r._mapping) for r in (await s.execute(text(sql), params)).all()]


async def assignments(dispatch, order_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return await rows(
        dispatch,
        "SELECT a.*, s.role, s.county_code AS staff_county FROM assignments a JOIN staff s ON s.id = a.staff_id "
        "WHERE a.work_order_id = :o ORDER BY a.offered_at, a.id",
        o=uuid.UUID(order_id),
    )


async def snapshot(dispatch, order_id: str) -> dict:  # type: ignore[no-untyped-def]
    [row] = await rows(dispatch, "SELECT * FROM orders WHERE work_order_id = :o", o=uuid.UUID(order_id))
    return row


async def decisions(dispatch, order_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return await rows(
        dispatch,
        "SELECT rule, reason, chosen_staff_id FROM decisions WHERE work_order_id = :o ORDER BY seq",
        o=uuid.UUID(order_id),
    )


async def open_offer(dispatch, order_id: str, *, not_id=None, status: str = "offered") -> dict:  # type: ignore[no-untyped-def]
    """Wait for the order's open offer (another than `not_id`)."""

    async def found():  # type: ignore[no-untyped-def]
        return next(
            (a for a in await assignments(dispatch, order_id) if a["status"] == status and a["id"] != not_id),
            None,
        )

    return await wait_for(found, timeout=15, what=f"an open offer of {order_id}")


async def intake_order(intake, order_id: str) -> dict:  # type: ignore[no-untyped-def]
    async with intake.client(headers=ADMIN) as c:
        r = await c.get(f"/v1/work-orders/{order_id}")
        assert r.status_code == 200, r.text
        return r.json()


async def intake_status(intake, order_id: str, want: str) -> dict:  # type: ignore[no-untyped-def]
    async def reached():  # type: ignore[no-untyped-def]
        o = await intake_order(intake, order_id)
        return o if o["status"] == want else None

    return await wait_for(reached, timeout=15, what=f"intake status {want} of {order_id}")


def as_staff(role: str, staff_id, region: str) -> dict:  # type: ignore[no-untyped-def]
    """A token for a staff member (dispatch's legal workers and notaries log in as counter staff)."""
    return auth(role if role in ROLES else "counter_staff", region=region, staff_id=str(staff_id))


async def accept(dispatch, offer: dict, region: str = QINXIAN) -> None:  # type: ignore[no-untyped-def]
    async with dispatch.client(headers=as_staff(offer["role"], offer["staff_id"], region)) as c:
        r = await c.post(f"/v1/assignments/{offer['id']}/accept")
        assert r.status_code == 200, r.text


async def settled(intake, dispatch, order_id: str) -> dict:  # type: ignore[no-untyped-def]
    """Wait until intake has folded every event dispatch announced about the order (their
    revisions meet), then intake's view of it."""
    oid = uuid.UUID(order_id)

    async def caught_up():  # type: ignore[no-untyped-def]
        [d] = await rows(dispatch, "SELECT event_seq FROM orders WHERE work_order_id = :o", o=oid)
        [i] = await rows(intake, "SELECT dispatch_seq FROM work_orders WHERE id = :o", o=oid)
        return d["event_seq"] > 0 and d["event_seq"] == i["dispatch_seq"]

    await wait_for(caught_up, timeout=15, what=f"intake to fold dispatch's events of {order_id}")
    return await intake_order(intake, order_id)
