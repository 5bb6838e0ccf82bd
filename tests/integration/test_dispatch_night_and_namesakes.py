"""Issue #15 items 2 and 7 on the real stack (intake → broker → dispatch, real PostgreSQL):

- 02:00 on a Sunday, "邻居拿着刀说要杀了我全家" (critical) reaches the city centre's 7×24
  on-call rota — someone who can accept, and does, through the API with their own token —
  with a transfer clock of an hour, the 四优先 flag and a critical offer timeout; the 12348
  seats are passed over with the reason.
- Two different 王伟: a lawyer who acted for one is warned, not blocked, on the other's matter;
  the same ID number blocks; an offer never accepted is not acting for anyone.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from libs.common.clock import CHINA_TZ, FrozenClock
from libs.common.embedded import EmbeddedBroker, free_port
from libs.common.testing.auth import auth
from libs.common.testing.infra import Infra, consumers_ready, services, wait_for
from services.dispatch.models import OrderSnapshot
from tests.integration.intake_helpers import make_id

SUNDAY_2AM = datetime(2026, 11, 29, 2, 0, tzinfo=CHINA_TZ)
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=CHINA_TZ)
QINYUAN, TOWN = "140431", "140431001"  # 沁源县 and one of its townships


@pytest.fixture
def own_broker(infra):  # type: ignore[no-untyped-def]
    """A broker of this test's own: dispatch announces every staff member's availability when
    it starts, and on the shared broker later tests' consumers would have to read through it."""
    port = free_port()
    broker = EmbeddedBroker(port, log_path=infra.tmp / f"night-{port}.log").start()
    try:
        yield Infra(infra.server_url, broker.bootstrap)
    finally:
        broker.stop()


async def _offer_of(dispatch, order_id: str) -> dict:  # type: ignore[no-untyped-def]
    async def offered():  # type: ignore[no-untyped-def]
        rows = (await dispatch.get("/v1/assignments", params={"work_order_id": order_id})).json()
        live = [r for r in rows if r["status"] == "offered"]
        return live[-1] if live else None

    return await wait_for(offered, timeout=30, what="the offer")


def _candidates(decision: dict) -> dict[str, dict]:
    return {c["staff_id"]: c for c in decision["candidates"]}


async def test_a_critical_order_at_two_on_sunday_night_reaches_an_on_call_person_who_accepts(own_broker):
    clock = FrozenClock(SUNDAY_2AM)
    async with services(own_broker, "intake", "dispatch", clock=clock) as svc:
        await consumers_ready(*svc.values())
        async with (
            svc["intake"].client(headers=auth("operator", region=QINYUAN)) as intake,
            svc["dispatch"].client(headers=auth("supervisor", region="1404")) as dispatch,
        ):
            r = await intake.post(
                "/v1/work-orders",
                json={
                    "channel": "hotline",
                    "requester": {"name": "郭桂英", "phone": "13834569901"},
                    "region_code": TOWN,
                    "description": "邻居拿着刀说要杀了我全家，我们现在躲在屋里",
                },
            )
            assert r.status_code == 201, r.text
            order = r.json()
            assert order["urgency"] == "critical"  # intake's classifier, no operator choice needed
            offer = await _offer_of(dispatch, order["id"])

            # Offered at the city centre, to a duty lawyer or aid officer of the on-call rota.
            assert offer["service_point_name"] == "长治市公共法律服务中心"
            person = (await dispatch.get(f"/v1/staff/{offer['staff_id']}")).json()
            assert person["role"] in ("lawyer", "aid_officer") and "on_call" in person["skills"]
            assert any(slot["kind"] == "on_call" for slot in person["roster"])
            decision = (await dispatch.get(f"/v1/work-orders/{order['id']}/decision")).json()
            assert decision["rule"].endswith(":city/7×24值班") and "当前在岗" in decision["reason"]
            # The 12348 seats were looked at and passed over: they cannot accept an offer.
            staff = (await dispatch.get("/v1/staff", params={"role": "operator"})).json()
            seats = {s["id"] for s in staff if s["county_code"] is None}
            rows = _candidates(decision)
            assert seats and all("无权接单" in rows[s]["passed_over"] for s in seats if s in rows)
            assert seats & set(rows)
            # Critical: answered within minutes, not "a county lawyer at 08:30".
            offered_at = datetime.fromisoformat(offer["offered_at"])
            assert datetime.fromisoformat(offer["expires_at"]) - offered_at == timedelta(minutes=5)
            assert offered_at == SUNDAY_2AM and offer["priority"] is True
            async with svc["dispatch"].rt.sessionmaker() as session:
                snap = await session.get(OrderSnapshot, uuid.UUID(order["id"]))
                assert snap.priority == 0 and snap.transfer_due - snap.received_at == timedelta(hours=1)

            # Nor can a supervisor hand it to a 12348 seat: the same rule guards 转办.
            seat = next(iter(seats))
            r = await dispatch.post(
                f"/v1/work-orders/{order['id']}/transfer", json={"to_staff_id": seat, "reason": "试试话务员"}
            )
            assert r.status_code == 409 and r.json()["errors"][0]["field"] == "to_staff_id"
            assert "无权接单" in r.json()["errors"][0]["message"]
            assert (await _offer_of(dispatch, order["id"]))["id"] == offer["id"]  # still theirs

            # That person sees it in their own inbox and accepts it with their own token.
            me = auth(person["role"], region="1404", staff_id=offer["staff_id"])
            inbox = (await dispatch.get("/v1/inbox", headers=me)).json()
            assert [a["id"] for a in inbox] == [offer["id"]] and inbox[0]["priority"] is True
            r = await dispatch.post(f"/v1/assignments/{offer['id']}/accept", headers=me)
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "accepted"
            # A 12348 operator could not have: the access rule and routing agree.
            r = await dispatch.post(
                f"/v1/assignments/{offer['id']}/accept",
                headers=auth("operator", region="1404", staff_id=seat),
            )
            assert r.status_code == 403


async def test_two_wang_weis_warn_the_same_id_number_blocks_an_unaccepted_offer_is_not_acting(own_broker):
    clock = FrozenClock(TUESDAY_10)
    wang_a, wang_b = make_id(QINYUAN, "19800101", "011"), make_id(QINYUAN, "19910707", "013")
    li_na = make_id(QINYUAN, "19750505", "022")
    async with services(own_broker, "intake", "dispatch", clock=clock) as svc:
        await consumers_ready(*svc.values())
        async with (
            svc["intake"].client(headers=auth("operator", region=QINYUAN)) as intake,
            svc["dispatch"].client(headers=auth("supervisor", region=QINYUAN)) as dispatch,
        ):

            async def new(requester: dict, description: str, parties: list | None = None) -> str:  # type: ignore[type-arg]
                body = {
                    "channel": "counter",
                    "requester": requester,
                    "region_code": TOWN,
                    "service_type": "legal_aid",
                    "description": description,
                    "parties": parties or [],
                }
                r = await intake.post("/v1/work-orders", json=body)
                assert r.status_code == 201, r.text
                return r.json()["id"]

            def as_officer(offer: dict) -> dict:
                return auth("aid_officer", region=QINYUAN, staff_id=offer["staff_id"])

            # 王伟 (ID A) asks for legal aid; officer S accepts: S now acts for 王伟 A.
            a = await new({"name": "王伟", "phone": "13834561101", "id_number": wang_a}, "工地拖欠工资两万元")
            offer_a = await _offer_of(dispatch, a)
            s = offer_a["staff_id"]
            assert (
                await dispatch.post(f"/v1/assignments/{offer_a['id']}/accept", headers=as_officer(offer_a))
            ).status_code == 200

            # 李娜's order is offered to T, who rejects it: T never acted for 李娜.
            c = await new(
                {"name": "李娜", "phone": "13834561103", "id_number": li_na}, "离婚后抚养费一直不给"
            )
            offer_c = await _offer_of(dispatch, c)
            t = offer_c["staff_id"]
            r = await dispatch.post(
                f"/v1/assignments/{offer_c['id']}/reject",
                json={"reason_code": "overload"},
                headers=as_officer(offer_c),
            )
            assert r.status_code == 200

            # Against another 王伟 (ID B): S is not blocked — a warning only.
            b = await new(
                {"name": "赵敏", "phone": "13834561102"},
                "王伟欠我装修款三万元不还",
                parties=[{"name": "王伟", "id_number": wang_b}],
            )
            await _offer_of(dispatch, b)
            rows = _candidates((await dispatch.get(f"/v1/work-orders/{b}/decision")).json())
            assert "利益冲突" not in (rows[s]["passed_over"] or "")
            assert rows[s]["warning"] and "同名" in rows[s]["warning"]
            # Against 王伟 A himself (another phone, the same ID number): S is blocked, with the reason.
            d = await new(
                {"name": "孙丽", "phone": "13834561104"},
                "王伟把我打伤了不赔医药费",
                parties=[{"name": "王伟", "id_number": wang_a, "phone": "13834569999"}],
            )
            offer_d = await _offer_of(dispatch, d)
            assert offer_d["staff_id"] != s
            rows = _candidates((await dispatch.get(f"/v1/work-orders/{d}/decision")).json())
            assert "利益冲突" in rows[s]["passed_over"] and "身份证号一致" in rows[s]["passed_over"]
            # Against 李娜 (the same ID number): T only had an offer, never accepted — no conflict.
            e = await new(
                {"name": "钱芳", "phone": "13834561105"},
                "李娜借我的钱到期不还",
                parties=[{"name": "李娜", "id_number": li_na}],
            )
            await _offer_of(dispatch, e)
            rows = _candidates((await dispatch.get(f"/v1/work-orders/{e}/decision")).json())
            assert t in rows and "利益冲突" not in (rows[t]["passed_over"] or "")


async def test_an_urgent_mediation_order_at_night_waits_for_a_mediator_not_the_on_call_aid_officer(
    own_broker,
):
    """Demo D0200: "两户人家…已经动了手" (mediation, urgent) at night went to the 7×24 on-call tier,
    an aid officer accepted it, and every mediation step then answered 403. Now it is offered to the
    first mediator on duty (the offer clock starts when they are), who accepts it and can work the
    case it opens; nobody can hand it to the on-call officer instead."""
    clock = FrozenClock(SUNDAY_2AM)
    async with services(own_broker, "intake", "dispatch", "mediation", clock=clock) as svc:
        await consumers_ready(*svc.values())
        async with (
            svc["intake"].client(headers=auth("operator", region=QINYUAN)) as intake,
            svc["dispatch"].client(headers=auth("supervisor", region="1404")) as dispatch,
        ):
            r = await intake.post(
                "/v1/work-orders",
                json={
                    "channel": "hotline",
                    "requester": {"name": "牛小平", "phone": "13834569902"},
                    "region_code": TOWN,
                    "description": "两户人家因为屋后排水沟的走向吵架，已经动了手，请派调解员。",
                },
            )
            assert r.status_code == 201, r.text
            order = r.json()
            assert (order["service_type"], order["urgency"]) == ("mediation", "urgent")
            offer = await _offer_of(dispatch, order["id"])
            person = (await dispatch.get(f"/v1/staff/{offer['staff_id']}")).json()
            assert person["role"] == "mediator", person
            # Offered now, timed from when that mediator's duty begins (Monday morning).
            assert datetime.fromisoformat(offer["offered_at"]) == SUNDAY_2AM
            assert datetime.fromisoformat(offer["expires_at"]) - SUNDAY_2AM > timedelta(hours=6)

            on_call = [
                s for s in (await dispatch.get("/v1/staff", params={"role": "aid_officer"})).json()
                if "on_call" in s["skills"]
            ] + [
                s for s in (await dispatch.get("/v1/staff", params={"role": "lawyer"})).json()
                if "on_call" in s["skills"]
            ]  # fmt: skip
            rows = _candidates((await dispatch.get(f"/v1/work-orders/{order['id']}/decision")).json())
            assert on_call and all(rows[s["id"]]["passed_over"] for s in on_call if s["id"] in rows)
            # A supervisor cannot hand it to the on-call aid officer either: the same rule guards 转办.
            officer = next(s for s in on_call if s["role"] == "aid_officer")
            r = await dispatch.post(
                f"/v1/work-orders/{order['id']}/transfer",
                json={"to_staff_id": officer["id"], "reason": "夜间值班"},
            )
            assert r.status_code == 409, r.text
            error = r.json()["errors"][0]
            assert error["field"] == "to_staff_id" and "不能办理人民调解案件" in error["message"]
            assert (await _offer_of(dispatch, order["id"]))["id"] == offer["id"]  # still the mediator's

            me = auth("mediator", region=person["county_code"] or "1404", staff_id=offer["staff_id"])
            r = await dispatch.post(f"/v1/assignments/{offer['id']}/accept", headers=me)
            assert r.status_code == 200, r.text

        async with svc["mediation"].client(headers=me) as mediation:

            async def case():  # type: ignore[no-untyped-def]
                found = (await mediation.get("/v1/cases", params={"work_order_id": order["id"]})).json()
                return found["items"] if isinstance(found, dict) else found

            cases = await wait_for(case, timeout=30, what="the mediation case")
            assert len(cases) == 1 and cases[0]["mediator_staff_id"] == offer["staff_id"]
