"""Scale-out and concurrency: two dispatch instances in one consumer group on one database
(counties split, no order offered twice, no capacity exceeded, SSE hears offers made by the
other instance within 1 s), and parallel orders against one person's capacity."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime

import httpx
from sqlalchemy import func, select, update

from libs.common import regions
from libs.common.clock import CHINA_TZ, FrozenClock
from libs.common.db import make_engine, make_sessionmaker
from libs.common.embedded import EmbeddedBroker, free_port
from libs.common.events import intake
from libs.common.events.envelope import make_event
from libs.common.events.topics import WORKORDER, topic
from libs.common.handlers import parse
from libs.common.kafka import make_producer
from libs.common.testing.auth import auth, token
from libs.common.testing.infra import consumers_ready, serve, wait_for
from services.dispatch import service
from services.dispatch.main import create_app
from services.dispatch.models import Assignment, Decision, OrderSnapshot, Staff
from tests.integration.test_dispatch_offers import TUESDAY_10, new_order


def created(county: str, n: int, when: datetime) -> intake.WorkOrderCreatedV1:
    oid = str(uuid.uuid4())
    return intake.WorkOrderCreatedV1(
        work_order_id=oid,
        number=f"LW{county}{n:04d}",
        channel="web",
        service_type="legal_aid",
        region_code=county,
        county_code=county,
        requester_name=f"申请人{county}{n}",
        description="想申请法律援助",
        created_at=when,
    )


async def _sse_offers(base: str, staff_id: str, got: list, ready: asyncio.Event) -> None:
    params = {"access_token": token("aid_officer", region="140430", staff_id=staff_id)}
    async with httpx.AsyncClient(base_url=base, timeout=None) as client:
        async with client.stream("GET", "/v1/inbox/stream", params=params) as resp:
            assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
            event = None
            async for line in resp.aiter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                    if event == "ready":
                        ready.set()
                elif line.startswith("data:") and event == "offer":
                    got.append((time.monotonic(), staff_id, json.loads(line[5:])))


async def test_two_instances_split_counties_and_never_double_offer(infra):
    clock = FrozenClock(TUESDAY_10)
    url = await infra.fresh_database("dispatch")
    # A private broker: this group's rebalances and these 36 orders touch no other test.
    broker = EmbeddedBroker(free_port()).start()
    a = await serve("dispatch-a", create_app(db_url=url, bootstrap=broker.bootstrap, clock=clock))
    b = await serve("dispatch-b", create_app(db_url=url, bootstrap=broker.bootstrap, clock=clock))
    tasks: list[asyncio.Task] = []
    try:
        await consumers_ready(a, b)

        async def split():  # type: ignore[no-untyped-def]
            pa, pb = (
                {tp for tp in s.rt.consumers[0].consumer.assignment() if tp.topic == topic(WORKORDER)}
                for s in (a, b)
            )
            return pa and pb and not (pa & pb) and len(pa | pb) == 12  # 12 work-order partitions

        await wait_for(split, timeout=40, what="the group to split the partitions")
        seen: dict[str, set[str]] = {"a": set(), "b": set()}
        for name, s in (("a", a), ("b", b)):
            handlers = s.rt.consumers[0].handlers
            original = handlers[intake.WORKORDER_CREATED]

            async def tagged(session, event, _orig=original, _name=name):  # type: ignore[no-untyped-def]
                seen[_name].add(event.data["county_code"])
                await _orig(session, event)

            handlers[intake.WORKORDER_CREATED] = tagged

        # SSE on instance B hears an offer that instance A makes (LISTEN/NOTIFY on the shared DB).
        async with b.client(headers=auth("supervisor")) as sup:
            aid = (await sup.get("/v1/staff", params={"county_code": "140430", "role": "aid_officer"})).json()
        async with httpx.AsyncClient(base_url=b.url) as anonymous:
            assert (await anonymous.get("/v1/inbox/stream")).status_code == 401
            bad = await anonymous.get("/v1/inbox/stream", params={"access_token": "not-a-jwt"})
            assert bad.status_code == 401
        got: list = []
        readies = [asyncio.Event() for _ in aid]
        tasks = [
            asyncio.create_task(_sse_offers(b.url, p["id"], got, r))
            for p, r in zip(aid, readies, strict=True)
        ]
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 10)
        started = time.monotonic()
        oid = await new_order(a, clock)  # routed and committed by instance A
        await wait_for(lambda: _async(bool(got)), timeout=5, interval=0.02, what="the SSE offer")
        arrived, staff_id, offer = got[0]
        assert offer["work_order_id"] == oid and offer["staff_id"] == staff_id
        assert arrived - started < 1.0, f"offer reached the inbox after {arrived - started:.2f}s"
        async with b.client(headers=auth("supervisor")) as sup:  # the pushed offer is the stored one
            assert (await sup.get("/v1/assignments", params={"work_order_id": oid})).json() == [offer]
        print(f"SSE: decision → inbox on the other instance in {1000 * (arrived - started):.0f} ms")
        assert len(got) == 1  # the other aid officer heard nothing

        # 3 orders for each of the 12 counties through Kafka, keyed by county code.
        producer = make_producer(broker.bootstrap)
        await producer.start()
        try:
            ids = []
            for county in regions.counties():
                for n in range(3):
                    payload = created(county.code, n, clock.now())
                    env = make_event(intake.WORKORDER_CREATED, source=intake.SOURCE, payload=payload)
                    headers, value = env.to_kafka()
                    await producer.send_and_wait(
                        topic(WORKORDER), value=value, key=county.code.encode(), headers=headers
                    )
                    ids.append(uuid.UUID(payload.work_order_id))
        finally:
            await producer.stop()

        async def all_routed():  # type: ignore[no-untyped-def]
            async with a.rt.sessionmaker() as session:
                n = await session.scalar(
                    select(func.count())
                    .select_from(OrderSnapshot)
                    .where(OrderSnapshot.work_order_id.in_(ids))
                )
                return n == len(ids)

        await wait_for(all_routed, timeout=60, what="all 36 orders to be routed")
        assert seen["a"] and seen["b"] and not (seen["a"] & seen["b"])  # each county owned by one instance
        assert len(seen["a"] | seen["b"]) == 12
        async with a.rt.sessionmaker() as session:
            per_order = await session.execute(
                select(Assignment.work_order_id, func.count())
                .where(Assignment.work_order_id.in_(ids))
                .group_by(Assignment.work_order_id)
            )
            assert {c for _, c in per_order} == {1}  # one offer per order, never two
            over = await session.scalar(
                select(func.count()).select_from(Staff).where(Staff.active_load > Staff.capacity)
            )
            assert over == 0
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await a.stop()
        await b.stop()
        broker.stop()


async def _async(v):  # type: ignore[no-untyped-def]
    return v


async def test_parallel_orders_never_exceed_one_persons_capacity(infra):
    url = await infra.fresh_database("dispatch")
    engine = make_engine(url, pool_size=12)
    sm = make_sessionmaker(engine)
    now = datetime(2026, 11, 24, 10, 0, tzinfo=CHINA_TZ)
    try:
        async with sm() as session, session.begin():
            aid = (
                await session.scalars(
                    select(Staff)
                    .where(Staff.county_code == "140430", Staff.role == "aid_officer")
                    .order_by(Staff.code)
                )
            ).first()
            # Only this one person (capacity 3) may take legal aid in 沁县 or at the city centre.
            await session.execute(
                update(Staff).where(Staff.role == "aid_officer", Staff.id != aid.id).values(active=False)
            )
            aid.capacity = 3

        async def route(n: int) -> None:
            payload = created("140430", n, now)
            event = make_event(intake.WORKORDER_CREATED, source=intake.SOURCE, payload=payload)
            async with sm() as session, session.begin():
                await service.route_new_order(
                    session, event=event, data=parse(intake.WorkOrderCreatedV1, event), now=now
                )

        await asyncio.gather(*(route(n) for n in range(10)))
        async with sm() as session:
            person = await session.get(Staff, aid.id)
            offered = await session.scalar(
                select(func.count()).select_from(Assignment).where(Assignment.staff_id == aid.id)
            )
            escalated = await session.scalar(
                select(func.count()).select_from(OrderSnapshot).where(OrderSnapshot.status == "escalated")
            )
        assert person.active_load == 3 == offered  # weight 1 each: exactly capacity, never more
        assert escalated == 7
    finally:
        await engine.dispose()


async def test_a_person_another_routing_holds_is_passed_over_not_waited_for(infra):
    """Parallel lanes see the same loads and pick the same person: the second routing takes
    the next best at once instead of queueing behind the first one's commit."""
    url = await infra.fresh_database("dispatch")
    engine = make_engine(url, pool_size=4)
    sm = make_sessionmaker(engine)
    now = datetime(2026, 11, 24, 10, 0, tzinfo=CHINA_TZ)

    def event(n: int):  # type: ignore[no-untyped-def]
        return make_event(intake.WORKORDER_CREATED, source=intake.SOURCE, payload=created("140430", n, now))

    try:
        async with sm() as session:  # who would get it: decided, then rolled back
            async with session.begin():
                first = await service.route_new_order(
                    session, event=(e1 := event(1)), data=parse(intake.WorkOrderCreatedV1, e1), now=now
                )
                best = first.staff_id
                await session.rollback()
        async with sm() as holder, holder.begin():
            # Another routing in progress holds the best person's row until its commit.
            await holder.execute(select(Staff).where(Staff.id == best).with_for_update())
            async with sm() as session, session.begin():
                offer = await asyncio.wait_for(
                    service.route_new_order(
                        session, event=(e2 := event(2)), data=parse(intake.WorkOrderCreatedV1, e2), now=now
                    ),
                    5,
                )
            assert offer is not None and offer.staff_id != best
        async with sm() as session:
            decisions = list(
                await session.scalars(select(Decision).where(Decision.work_order_id == offer.work_order_id))
            )
        held = [c for d in decisions for c in d.candidates if c["staff_id"] == str(best)]
        assert any("正在被分派其他工单" in (c["passed_over"] or "") for c in held)
    finally:
        await engine.dispose()
