"""Offers, rejections, timeouts, escalation, transfer, return, follow-up and conflict of
interest — the real dispatch app on real PostgreSQL, time moved with a FrozenClock.

Orders enter through the same handler the Kafka consumer calls (route_new_order); the
Kafka path itself is covered by the e2e and scale-out tests. These apps run against a
private broker, so their quick starts and stops never make the shared consumer groups
of other tests rebalance, and their events reach no other test's consumers."""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime

import pytest
from sqlalchemy import text

from libs.common.clock import CHINA_TZ, FrozenClock
from libs.common.embedded import EmbeddedBroker, free_port
from libs.common.events import aid as aid_events
from libs.common.events import dispatch as ev
from libs.common.events import intake
from libs.common.events.envelope import make_event
from libs.common.handlers import parse
from libs.common.testing.auth import auth
from libs.common.testing.infra import consumers_ready, serve
from services.dispatch import offers as offer_flow
from services.dispatch import parties as parties_mod
from services.dispatch import service
from services.dispatch.main import create_app
from services.dispatch.models import OrderSnapshot, Staff
from services.dispatch.supervision import sweep_once


@pytest.fixture(scope="module")
def broker():  # type: ignore[no-untyped-def]
    b = EmbeddedBroker(free_port()).start()
    yield b
    b.stop()


@contextlib.asynccontextmanager
async def dispatch(infra, broker, clock):  # type: ignore[no-untyped-def]
    """One dispatch app on a fresh migrated + seeded database."""
    url = await infra.fresh_database("dispatch")
    app = await serve("dispatch", create_app(db_url=url, bootstrap=broker.bootstrap, clock=clock))
    try:
        # Stopping an app whose consumer is still starting leaks aiokafka tasks: let it settle.
        await consumers_ready(app)
        yield app
    finally:
        await app.stop()


TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=CHINA_TZ)
QINXIAN = "140430"


async def new_order(svc, clock: FrozenClock, **fields) -> str:  # type: ignore[no-untyped-def]
    """Feed one workorder.created to the dispatch app, exactly as its consumer would."""
    order_id = str(uuid.uuid4())
    payload = dict(
        work_order_id=order_id,
        number=f"LW{order_id[:8]}",
        channel="hotline",
        service_type="legal_aid",
        region_code=f"{QINXIAN}003",
        county_code=QINXIAN,
        requester_name="王秀英",
        description="想申请法律援助",
        created_at=clock.now(),
    )
    payload.update(fields)
    event = make_event(
        intake.WORKORDER_CREATED, source=intake.SOURCE, payload=intake.WorkOrderCreatedV1(**payload)
    )
    async with svc.rt.sessionmaker() as session, session.begin():
        await service.route_new_order(
            session, event=event, data=parse(intake.WorkOrderCreatedV1, event), now=clock.now()
        )
    return order_id


async def events(svc, event_type: str, order_id: str | None = None) -> list[dict]:  # type: ignore[no-untyped-def]
    async with svc.rt.sessionmaker() as session:
        rows = await session.execute(
            text(
                "SELECT event FROM outbox WHERE event->>'type' = :t AND (CAST(:s AS text) IS NULL OR event->>'subject' = CAST(:s AS text)) ORDER BY id"
            ),
            {"t": event_type, "s": order_id},
        )
        return [r[0]["data"] for r in rows]


async def offers(client, order_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    r = await client.get("/v1/assignments", params={"work_order_id": order_id})
    assert r.status_code == 200, r.text
    return sorted(r.json(), key=lambda a: a["offered_at"])


def as_handler(offer: dict, role: str = "aid_officer") -> dict:
    return auth(role, region=QINXIAN, staff_id=offer["staff_id"])


async def test_reject_timeout_escalate_transfer_accept_and_return(infra, broker):
    clock = FrozenClock(TUESDAY_10)
    async with dispatch(infra, broker, clock) as d:
        async with d.client(headers=auth("supervisor", region=QINXIAN)) as sup:
            oid = await new_order(d, clock)
            [first] = await offers(sup, oid)
            assert first["status"] == "offered" and "沁县公共法律服务中心" == first["service_point_name"]

            # Reject with a reason → the next candidate, never the same person again.
            bad = await sup.post(
                f"/v1/assignments/{first['id']}/reject",
                json={"reason_code": "bored"},
                headers=as_handler(first),
            )
            assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "reason_code"
            r = await sup.post(
                f"/v1/assignments/{first['id']}/reject",
                json={"reason_code": "overload", "note": "手上案件太多"},
                headers=as_handler(first),
            )
            assert r.status_code == 200 and r.json()["status"] == "rejected"
            rows = await offers(sup, oid)
            second = rows[-1]
            assert (
                len(rows) == 2 and second["status"] == "offered" and second["staff_id"] != first["staff_id"]
            )
            assert (await events(d, ev.REJECTED, oid))[0]["reason_code"] == "overload"

            # No answer within the offer timeout → next candidate (the sweeper on the moved clock).
            clock.advance(minutes=29)
            await sweep_once(d.rt.sessionmaker, now=clock.now())
            assert (await offers(sup, oid))[-1]["id"] == second["id"]
            clock.advance(minutes=2)
            await sweep_once(d.rt.sessionmaker, now=clock.now())
            rows = await offers(sup, oid)
            assert [a["status"] for a in rows] == ["rejected", "expired", "offered"]
            assert rows[-1]["service_point_name"] == "长治市公共法律服务中心"  # relaxed to the parent tier

            # Third offer times out too → max re-offers reached → supervisor queue.
            clock.advance(minutes=61)
            await sweep_once(d.rt.sessionmaker, now=clock.now())
            queue = (await sup.get("/v1/supervision/queue")).json()
            assert [q["work_order_id"] for q in queue] == [oid] and queue[0]["offers_made"] == 3
            assert (await events(d, ev.ESCALATED, oid))[0]["to"] == "supervisor_queue"

            # The supervisor transfers it to a named person, who accepts.
            r = await sup.post(
                f"/v1/work-orders/{oid}/transfer",
                json={"to_staff_id": first["staff_id"], "reason": "协调后由其承办"},
            )
            assert r.status_code == 200 and r.json()["kind"] == "transfer"
            taken = await sup.post(f"/v1/assignments/{r.json()['id']}/accept", headers=as_handler(first))
            assert taken.status_code == 200 and taken.json()["status"] == "accepted"
            assigned = await events(d, ev.ASSIGNED, oid)
            assert len(assigned) == 1 and assigned[0]["staff_id"] == first["staff_id"]

            # 退单 with a reason: the load is released and the order goes back (here: to the queue).
            r = await sup.post(
                f"/v1/assignments/{taken.json()['id']}/return",
                json={"reason": "不属于援助范围"},
                headers=as_handler(first),
            )
            assert r.status_code == 200 and r.json()["status"] == "returned"
            async with d.rt.sessionmaker() as session:
                person = await session.get(Staff, uuid.UUID(first["staff_id"]))
                order = await session.get(OrderSnapshot, uuid.UUID(oid))
                assert person.active_load == 0 and order.status == "escalated"
            # Someone else's offer does not exist for them; a finished one cannot be accepted.
            other = auth("aid_officer", region=QINXIAN, staff_id=str(uuid.uuid4()))
            assert (
                await sup.post(f"/v1/assignments/{second['id']}/accept", headers=other)
            ).status_code == 404
            assert (
                await sup.post(f"/v1/assignments/{second['id']}/accept", headers=as_handler(second))
            ).status_code == 409

            # The decision explains itself: rule, policy version, complexity, candidates and why not.
            dec = (await sup.get(f"/v1/work-orders/{oid}/decision")).json()
            assert dec["policy_version"] and dec["rule"] and dec["complexity_reasons"]
            assert any(c["passed_over"] for c in dec["candidates"])
            history = (await sup.get(f"/v1/work-orders/{oid}/decisions")).json()
            # First offer, re-offer after the rejection, re-offer after the first timeout; then the
            # supervisor's transfer and the 退单 (max offers reached) add no routing decision.
            assert [h["chosen_staff_id"] for h in history] == [
                first["staff_id"],
                second["staff_id"],
                rows[-1]["staff_id"],
            ]
            assert history[-1]["id"] == dec["id"]
            async with d.client(headers=auth("supervisor", region="140403")) as elsewhere:
                assert (await elsewhere.get(f"/v1/work-orders/{oid}/decisions")).status_code == 404


async def test_follow_up_returns_to_previous_handler_and_conflicts_are_never_offered(infra, broker):
    clock = FrozenClock(TUESDAY_10)
    async with dispatch(infra, broker, clock) as d:
        async with d.client(headers=auth("supervisor", region=QINXIAN)) as sup:
            # A lawyer referral for 张三, accepted by lawyer L (intake sends 张三's phone, indexed).
            first = await new_order(
                d,
                clock,
                service_type="lawyer_referral",
                requester_name="张三",
                description="合同纠纷想找律师",
                parties=parties_mod.party_rows(
                    [{"side": "requester", "phone": "13834560001"}]
                ),  # the indexes intake sends (PartyRefV1)
            )
            [offer] = await offers(sup, first)
            r = await sup.post(f"/v1/assignments/{offer['id']}/accept", headers=as_handler(offer, "lawyer"))
            assert r.status_code == 200

            # 李四 now comes against 张三 (same phone, written otherwise): L acted for the other side.
            clock.advance(minutes=5)
            second = await new_order(
                d,
                clock,
                service_type="lawyer_referral",
                requester_name="李四",
                description="张三欠我货款不还",
                parties=parties_mod.party_rows(
                    [{"side": "counterparty", "name": "张三", "phone": "+86 138 3456 0001"}]
                ),  # the indexes intake sends (PartyRefV1)
            )
            [offer2] = await offers(sup, second)
            assert offer2["staff_id"] != offer["staff_id"]
            dec = (await sup.get(f"/v1/work-orders/{second}/decision")).json()
            why = next(c["passed_over"] for c in dec["candidates"] if c["staff_id"] == offer["staff_id"])
            assert "利益冲突" in why
            # Nor can anyone transfer it to L.
            r = await sup.post(
                f"/v1/work-orders/{second}/transfer",
                json={"to_staff_id": offer["staff_id"], "reason": "指定"},
            )
            assert r.status_code == 409 and r.json()["errors"][0]["field"] == "to_staff_id"

            # Parties learnt after routing: a conflicted holder's offer is withdrawn and re-routed.
            third = await new_order(
                d, clock, service_type="lawyer_referral", requester_name="王五", description="合同纠纷",
                parties=parties_mod.party_rows([{"side": "requester", "phone": "13834560005"}]),  # the indexes intake sends (PartyRefV1)
            )  # fmt: skip
            [offer_w] = await offers(sup, third)
            r = await sup.post(
                f"/v1/assignments/{offer_w['id']}/accept", headers=as_handler(offer_w, "lawyer")
            )
            assert r.status_code == 200
            late = await new_order(
                d, clock, service_type="lawyer_referral", requester_name="赵六", description="王五欠款"
            )
            # Nothing known yet: a supervisor may hand it to W …
            r = await sup.post(
                f"/v1/work-orders/{late}/transfer",
                json={"to_staff_id": offer_w["staff_id"], "reason": "指定"},
            )
            assert r.status_code == 200
            # A name alone is no proof (another 王五?): W keeps the offer …
            r = await sup.post(f"/v1/work-orders/{late}/parties", json={"parties": [{"name": "王五"}]})
            assert r.status_code == 204
            held = await offers(sup, late)
            assert [a["status"] for a in held] == ["transferred", "offered"]
            assert held[-1]["staff_id"] == offer_w["staff_id"]
            # … until the operator records 王五's phone: the same person, W's offer is withdrawn.
            r = await sup.post(
                f"/v1/work-orders/{late}/parties",
                json={"parties": [{"name": "王五", "phone": "138 3456 0005"}]},
            )
            assert r.status_code == 204
            rows = await offers(sup, late)
            assert [a["status"] for a in rows] == ["transferred", "withdrawn", "offered"]
            assert rows[-1]["staff_id"] not in (offer_w["staff_id"], rows[0]["staff_id"])
            bad = await sup.post(
                f"/v1/work-orders/{late}/parties", json={"parties": [{"side": "counterparty"}]}
            )
            assert bad.status_code == 422

            # A legal-aid case (aid service) names lawyer X for 孙七: X never gets 周八's order against 孙七.
            centre = (
                await sup.get("/v1/service-points", params={"county_code": QINXIAN, "tier": "county"})
            ).json()[0]
            lawyers = (
                await sup.get("/v1/staff", params={"service_point_id": centre["id"], "role": "lawyer"})
            ).json()
            x = lawyers[0]["id"]
            aid_order = await new_order(
                d, clock, service_type="legal_aid", requester_name="孙七", description="工伤赔偿",
                parties=[{"side": "requester", "id_index": "bidx-of-sun-qi"}],  # as intake sends it
            )  # fmt: skip
            case = aid_events.AidCaseOpenedV1(
                case_id=str(uuid.uuid4()), case_number="YZ1", work_order_id=aid_order, county_code=QINXIAN,
                handler_staff_id=x, opened_at=clock.now(),
            )  # fmt: skip
            async with d.rt.sessionmaker() as session, session.begin():
                await parties_mod.record_case(
                    session,
                    work_order_id=case.work_order_id,
                    acting=[case.handler_staff_id],
                    source=aid_events.CASE_OPENED,
                )
            against = await new_order(
                d, clock, service_type="lawyer_referral", requester_name="周八", description="孙七的工伤案我是对方",
                parties=parties_mod.party_rows([{"side": "counterparty", "name": "孙七", "id_index": "bidx-of-sun-qi"}]),  # the indexes intake sends (PartyRefV1)
            )  # fmt: skip
            dec = (await sup.get(f"/v1/work-orders/{against}/decision")).json()
            assert dec["chosen_staff_id"] != x
            assert "利益冲突" in next(c["passed_over"] for c in dec["candidates"] if c["staff_id"] == x)

            # 张三's follow-up goes back to L first.
            clock.advance(minutes=5)
            follow = await new_order(
                d,
                clock,
                service_type="lawyer_referral",
                requester_name="张三",
                description="上次的合同纠纷有新情况",
                follow_up_of=first,
            )
            [offer3] = await offers(sup, follow)
            assert offer3["staff_id"] == offer["staff_id"] and offer3["kind"] == "follow_up"
            dec = (await sup.get(f"/v1/work-orders/{follow}/decision")).json()
            assert dec["rule"] == "follow-up/previous-handler"
            assert any("此前已有" in r for r in dec["complexity_reasons"])  # a repeat requester scores higher


@pytest.mark.parametrize("urgency", ["urgent", "critical"])  # critical: never looser than urgent
async def test_clocks_raise_supervision_up_the_ladder(infra, broker, urgency):
    # Friday 16:00: an urgent order must be transferred within 1 hour.
    clock = FrozenClock(datetime(2026, 11, 27, 16, 0, tzinfo=CHINA_TZ))
    async with dispatch(infra, broker, clock) as d:
        async with d.client(headers=auth("supervisor", region="1404")) as sup:
            oid = await new_order(
                d,
                clock,
                service_type="consultation",
                urgency=urgency,
                special_groups=["elderly"],
                description="老人被骗",
            )
            normal = await new_order(d, clock, service_type="consultation", description="咨询合同问题")
            clock.advance(minutes=50)
            await sweep_once(d.rt.sessionmaker, now=clock.now())
            raised = await events(d, ev.OVERDUE, oid)
            assert [(e["clock"], e["level"]) for e in raised] == [("transfer", 0)]  # at risk
            groups = (await sup.get("/v1/supervision/overdue")).json()
            [row] = [o for g in groups for o in g["orders"] if o["work_order_id"] == oid]
            assert row["state"] == "at_risk" and row["priority"] is True
            clock.advance(minutes=15)
            await sweep_once(d.rt.sessionmaker, now=clock.now())
            await sweep_once(d.rt.sessionmaker, now=clock.now())  # each rung is raised once
            raised = await events(d, ev.OVERDUE, oid)
            assert [(e["level"], e["notified"]) for e in raised] == [
                (0, "service_point"),
                (1, "service_point"),
            ]
            # An urgent order climbs its ladder in hours (policy.yaml ladder_by_urgency), not days.
            clock.advance(hours=1)
            await sweep_once(d.rt.sessionmaker, now=clock.now())
            assert [e["notified"] for e in await events(d, ev.OVERDUE, oid)][-1] == "county"
            clock.advance(hours=3)
            await sweep_once(d.rt.sessionmaker, now=clock.now())
            assert [e["notified"] for e in await events(d, ev.OVERDUE, oid)][-1] == "city"
            clock.advance(hours=21)
            groups = (await sup.get("/v1/supervision/overdue", params={"county_code": QINXIAN})).json()
            states = {o["work_order_id"]: o["state"] for g in groups for o in g["orders"]}
            # The ordinary order is due Monday 16:00 (1 working day): Saturday it is neither late nor at risk.
            assert states[oid] == "overdue" and normal not in states
            # workorder.closed stops the clocks and frees the handler's capacity.
            closed = intake.WorkOrderClosedV1(
                work_order_id=oid, number="LW1", county_code=QINXIAN, reason="已答复", closed_at=clock.now()
            )
            async with d.rt.sessionmaker() as session, session.begin():
                await offer_flow.close_order(session, closed=closed, now=clock.now())
            groups = (await sup.get("/v1/supervision/overdue", params={"county_code": QINXIAN})).json()
            assert oid not in {o["work_order_id"] for g in groups for o in g["orders"]}
            async with d.rt.sessionmaker() as session:
                open_offers = await session.execute(
                    text("SELECT count(*) FROM assignments WHERE work_order_id = :id AND status = 'offered'"),
                    {"id": oid},
                )
                assert open_offers.scalar() == 0
            # Out of jurisdiction: a supervisor of another county sees none of it.
            async with d.client(headers=auth("supervisor", region="140403")) as other:
                assert (await other.get("/v1/supervision/overdue")).json() == []
