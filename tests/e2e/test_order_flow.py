"""One work order end to end: intake → Kafka → dispatch → counter inbox → accept → aid case
→ intake timeline, on the real PostgreSQL and the real broker."""

from __future__ import annotations

import uuid

import pytest

from libs.common.events.topics import topic
from libs.common.testing.auth import auth
from libs.common.testing.infra import consumers_ready, services, wait_for
from tests.integration.pipeline_helpers import read_topic

pytestmark = pytest.mark.e2e

LEGAL_AID_ORDER = {
    "channel": "hotline",
    "requester": {"name": "王秀英", "phone": "138 3456 7890"},
    "region_code": "140430003",  # a township of 沁县
    "service_type": "legal_aid",
    "description": "老板拖欠我三个月工资一万八，想申请法律援助。",
}
# What an operator types while the caller dictates (#17: these reached Kafka whole).
DICTATED = "我手机 136 2222 3333，家里 0355-2021234，身份证 140430 19650215 0024，邮箱 wxy@example.com，工资卡 6222 0212 3456 7890。"
RAW = ("2222 3333", "2021234", "19650215", "wxy@", "0212 3456")


async def test_legal_aid_order_flows_to_county_inbox_and_opens_aid_case(infra):
    async with services(infra, "intake", "dispatch", "aid", "mediation") as svc:
        await consumers_ready(*svc.values())
        async with (
            svc["intake"].client(headers=auth("operator")) as intake,
            svc["dispatch"].client(headers=auth("supervisor")) as dispatch,
            svc["aid"].client(headers=auth("aid_officer")) as aid,
            svc["mediation"].client(headers=auth("mediator")) as mediation,
        ):
            placed = dict(LEGAL_AID_ORDER, description=LEGAL_AID_ORDER["description"] + DICTATED)
            r = await intake.post("/v1/work-orders", json=placed)
            assert r.status_code == 201, r.text
            order = r.json()
            assert order["number"].startswith("LW") and order["status"] == "received"

            async def offered():
                rows = (await dispatch.get("/v1/assignments", params={"work_order_id": order["id"]})).json()
                return rows if rows and rows[0]["status"] == "offered" else None

            offers = await wait_for(offered, timeout=45, what="the offer")
            offer = offers[0]
            # Offered at 沁县's county centre, to someone whose inbox now shows it.
            point = (
                await dispatch.get("/v1/service-points", params={"county_code": "140430", "tier": "county"})
            ).json()
            assert offer["service_point_id"] == point[0]["id"]
            inbox = (await dispatch.get("/v1/inbox", params={"staff_id": offer["staff_id"]})).json()
            assert [a["id"] for a in inbox] == [offer["id"]]
            staff = (
                await dispatch.get(
                    "/v1/staff", params={"service_point_id": point[0]["id"], "role": "aid_officer"}
                )
            ).json()
            assert offer["staff_id"] in {s["id"] for s in staff}
            decision = (await dispatch.get(f"/v1/work-orders/{order['id']}/decision")).json()
            assert decision["chosen_staff_id"] == offer["staff_id"] and decision["reason"]

            r = await dispatch.post(f"/v1/assignments/{offer['id']}/accept")
            assert r.status_code == 403  # supervisors do not take offers
            colleague = auth("aid_officer", region="140430", staff_id=str(uuid.uuid4()))
            r = await dispatch.post(f"/v1/assignments/{offer['id']}/accept", headers=colleague)
            assert r.status_code == 404  # someone else's offer does not exist for them
            handler = auth("aid_officer", region="140430", staff_id=offer["staff_id"])
            r = await dispatch.post(f"/v1/assignments/{offer['id']}/accept", headers=handler)
            assert r.status_code == 200 and r.json()["status"] == "accepted"
            again = await dispatch.post(f"/v1/assignments/{offer['id']}/accept", headers=handler)
            assert again.status_code == 409

            async def aid_case():
                rows = (await aid.get("/v1/cases", params={"work_order_id": order["id"]})).json()
                return rows or None

            cases = await wait_for(aid_case, timeout=45, what="the aid case")
            assert len(cases) == 1 and cases[0]["handler_staff_id"] == offer["staff_id"]
            assert (await aid.get(f"/v1/cases/{cases[0]['id']}")).json()["number"] == cases[0]["number"]
            # A legal-aid order opens no mediation case.
            assert (await mediation.get("/v1/cases", params={"work_order_id": order["id"]})).json() == []

            async def timeline_done():
                body = (await intake.get(f"/v1/work-orders/{order['id']}")).json()
                kinds = [e["kind"] for e in body["timeline"]]
                return body if "aid_case_opened" in kinds else None

            body = await wait_for(timeline_done, timeout=45, what="the timeline entries")
            kinds = [e["kind"] for e in body["timeline"]]
            assert kinds[0] == "received" and {"offered", "assigned", "aid_case_opened"} <= set(kinds)
            assert body["status"] == "in_progress"
            assert body["requester_phone_masked"] == "138****7890"

            # Every record about this order on the broker (created, offered, assigned, the aid
            # case's) carries the description's numbers masked, never whole.
            records = [
                r.value.decode()
                for name in ("workorder", "dispatch", "aid")
                for r in await read_topic(infra.bootstrap, topic(name))
                if order["id"].encode() in r.value
            ]
            assert len(records) >= 3
            assert any("136****3333" in v and "0355-****1234" in v for v in records)
            for value in records:
                assert not [raw for raw in RAW if raw in value], value


async def test_mediation_order_opens_mediation_case(infra):
    async with services(infra, "intake", "dispatch", "mediation") as svc:
        await consumers_ready(*svc.values())
        async with (
            svc["intake"].client(headers=auth("operator")) as intake,
            svc["dispatch"].client(headers=auth("supervisor")) as dispatch,
            svc["mediation"].client(headers=auth("mediator")) as mediation,
        ):
            body = dict(
                LEGAL_AID_ORDER,
                service_type="mediation",
                region_code="140403",
                description="邻居家空调外机噪音大还滴水，沟通无果，希望调解。",
            )
            order = (await intake.post("/v1/work-orders", json=body)).json()

            async def offered():
                rows = (await dispatch.get("/v1/assignments", params={"work_order_id": order["id"]})).json()
                return rows or None

            offer = (await wait_for(offered, what="the offer"))[0]
            staff = (
                await dispatch.get("/v1/staff", params={"county_code": "140403", "role": "mediator"})
            ).json()
            assert offer["staff_id"] in {s["id"] for s in staff}
            await dispatch.post(
                f"/v1/assignments/{offer['id']}/accept", headers=auth("mediator", staff_id=offer["staff_id"])
            )

            async def case():
                return (
                    await mediation.get("/v1/cases", params={"work_order_id": order["id"]})
                ).json() or None

            cases = await wait_for(case, what="the mediation case")
            assert cases[0]["mediator_staff_id"] == offer["staff_id"]


async def test_same_idempotency_key_twice_creates_one_order(infra):
    async with services(infra, "intake") as svc:
        async with svc["intake"].client(headers=auth("operator")) as intake:
            key = str(uuid.uuid4())
            first = await intake.post(
                "/v1/work-orders", json=LEGAL_AID_ORDER, headers={"Idempotency-Key": key}
            )
            second = await intake.post(
                "/v1/work-orders", json=LEGAL_AID_ORDER, headers={"Idempotency-Key": key}
            )
            assert first.status_code == second.status_code == 201
            assert first.json() == second.json()
            assert second.headers.get("Idempotent-Replayed") == "true"
            other = dict(LEGAL_AID_ORDER, description="另一件事：想咨询离婚财产分割。")
            conflict = await intake.post("/v1/work-orders", json=other, headers={"Idempotency-Key": key})
            assert conflict.status_code == 409
            assert conflict.headers["content-type"].startswith("application/problem+json")
        async with svc["intake"].rt.sessionmaker() as session:
            from sqlalchemy import func, select

            from services.intake.models import WorkOrder, outbox

            assert await session.scalar(select(func.count()).select_from(WorkOrder)) == 1
            # One order announced once (intake now also emits workorder.classified when it infers the domain).
            created = outbox.c.event["type"].astext == "cn.lawline.workorder.created.v1"
            assert await session.scalar(select(func.count()).select_from(outbox).where(created)) == 1


async def test_invalid_order_gets_field_level_problem(infra):
    async with services(infra, "intake") as svc:
        async with svc["intake"].client(headers=auth("operator")) as intake:
            bad = dict(LEGAL_AID_ORDER, region_code="999999", requester={"name": "王", "phone": "12345"})
            r = await intake.post("/v1/work-orders", json=bad)
            assert r.status_code == 422
            assert r.headers["content-type"].startswith("application/problem+json")
            fields = {e["field"]: e for e in r.json()["errors"]}
            assert set(fields) == {"region_code", "requester.phone"}
            assert "区号" in fields["requester.phone"]["message"] and fields["requester.phone"]["message_en"]
            r = await intake.post(
                "/v1/work-orders", content=b"{not json", headers={"content-type": "application/json"}
            )
            # Unreadable JSON is a 400 on `body` (the position is in the words, not the field).
            assert r.status_code == 400
            (err,) = r.json()["errors"]
            assert err["field"] == "body" and err["code"] == "json_invalid" and err["message_en"]


async def test_requests_without_a_token_or_outside_jurisdiction_are_refused(infra):
    async with services(infra, "intake") as svc:
        async with svc["intake"].client() as anonymous:
            assert (await anonymous.post("/v1/work-orders", json=LEGAL_AID_ORDER)).status_code == 401
            assert (await anonymous.get("/healthz")).status_code == 200
        async with (
            svc["intake"].client(headers=auth("operator", region="140430")) as qinxian,
            svc["intake"].client(headers=auth("counter_staff", region="140403")) as luzhou,
        ):
            order = (await qinxian.post("/v1/work-orders", json=LEGAL_AID_ORDER)).json()
            assert (await qinxian.get(f"/v1/work-orders/{order['id']}")).status_code == 200
            # A clerk of 潞州区 gets 404 on an order of 沁县.
            assert (await luzhou.get(f"/v1/work-orders/{order['id']}")).status_code == 404
            assert (await luzhou.post("/v1/work-orders", json=LEGAL_AID_ORDER)).status_code == 404
