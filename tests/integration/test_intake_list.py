"""Staff list (filters, keyset pagination, jurisdiction, masking), caller lookup, the
Idempotency-Key race and purge, and folding of downstream events into the timeline."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from libs.common.events.envelope import make_event
from libs.common.testing.auth import auth
from services.intake import service
from services.intake.models import IdempotencyKey, WorkOrder
from tests.integration.intake_helpers import clock, intake_without_broker, make_id, order

OP = auth("operator", region="1404")


class Payload(BaseModel):
    model_config = ConfigDict(extra="allow")


@pytest.fixture(scope="module")
async def env(infra):
    c = clock()
    async with intake_without_broker(infra, c) as svc:
        yield svc, c


async def test_list_filters_pagination_masking_and_jurisdiction(env):
    svc, clk = env
    bodies = [
        order(
            requester={"name": f"列表{i}", "phone": f"1390000{i:04d}"},
            region_code=region,
            service_type=st,
            description=desc,
            special_groups=groups,
        )
        for i, (region, st, desc, groups) in enumerate(
            [
                ("140429003", "legal_aid", "老板拖欠工资，想申请法律援助。", []),
                ("140403", "mediation", "邻居家空调滴水，希望调解。", ["elderly"]),
                ("140429", "consultation", "租的房子漏水房东不修，押金怎么办？", []),
                ("140426", "notarization", "想办理遗嘱公证。", ["disabled"]),
                ("140429001001", "mediation", "两户人家因为排水沟吵架，想调解。", []),
            ]
        )
    ]
    async with svc.client(headers=OP) as c:
        ids = []
        for b in bodies:
            clk.advance(minutes=1)
            r = await c.post("/v1/work-orders", json=b)
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        seen, cursor = [], None
        while True:
            page = (
                await c.get("/v1/work-orders", params={"limit": 2, **({"cursor": cursor} if cursor else {})})
            ).json()
            seen += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == list(reversed(ids))  # newest first, each exactly once
        item = (await c.get("/v1/work-orders", params={"limit": 1})).json()["items"][0]
        assert item["requester_phone_masked"] == "139****0004"
        q = lambda **p: c.get("/v1/work-orders", params=p)  # noqa: E731
        assert [i["id"] for i in (await q(region="140429")).json()["items"]] == [ids[4], ids[2], ids[0]]
        assert [i["id"] for i in (await q(service_type="mediation")).json()["items"]] == [ids[4], ids[1]]
        assert [i["id"] for i in (await q(special_group="disabled")).json()["items"]] == [ids[3]]
        assert [i["id"] for i in (await q(q="列表2")).json()["items"]] == [ids[2]]
        number = (await c.get(f"/v1/work-orders/{ids[1]}")).json()["number"]
        assert [i["id"] for i in (await q(q=number)).json()["items"]] == [ids[1]]
        assert [i["id"] for i in (await q(domain="housing")).json()["items"]] == [ids[2]]
        assert (await q(status="closed", region="140429")).json()["items"] == []
        assert (await q(overdue=True)).json()["items"] == []
        late = (await q(created_from=(clk.now() - timedelta(seconds=90)).isoformat())).json()["items"]
        assert [i["id"] for i in late] == [ids[4], ids[3]]
        assert (await q(cursor="garbage")).status_code == 422
        assert (await q(limit=0)).status_code == 422
        assert (await q(region="14x")).status_code == 422
        for name in ("status", "channel", "service_type", "domain", "special_group"):
            r = await q(**{name: "nonsense"})
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == name
    clk.advance(days=10)  # past the 5-working-day callback deadline
    async with svc.client(headers=OP) as c:
        overdue = (await c.get("/v1/work-orders", params={"overdue": True, "region": "140429"})).json()[
            "items"
        ]
        assert {i["id"] for i in overdue} >= {ids[0], ids[2], ids[4]} and all(i["overdue"] for i in overdue)
    async with svc.client(headers=auth("counter_staff", region="140426")) as licheng:
        items = (await licheng.get("/v1/work-orders")).json()["items"]
        assert [i["id"] for i in items] == [ids[3]]
        assert (await licheng.get("/v1/work-orders", params={"region": "140429"})).json()["items"] == []


async def test_caller_lookup_by_phone_or_id(env):
    svc, _ = env
    idn = make_id(born="19900101", seq="123")
    async with svc.client(headers=OP) as c:
        o = (
            await c.post(
                "/v1/work-orders",
                json=order(requester={"name": "查询", "phone": "13655550000", "id_number": idn}),
            )
        ).json()
        by_phone = (await c.post("/v1/caller-lookup", json={"phone": "136 5555 0000"})).json()
        by_id = (await c.post("/v1/caller-lookup", json={"id_number": idn})).json()
        assert [i["id"] for i in by_phone] == [i["id"] for i in by_id] == [o["id"]]
        assert "13655550000" not in str(by_phone) and idn not in str(by_id)
        assert (await c.post("/v1/caller-lookup", json={})).status_code == 422
        assert (await c.post("/v1/caller-lookup", json={"phone": "12"})).json()["errors"][0][
            "field"
        ] == "phone"


async def test_concurrent_same_key_requests_create_one_order(env):
    svc, clk = env
    key = str(uuid.uuid4())
    body = order(
        requester={"name": "并发", "phone": "13744440000"}, description="并发测试：老板拖欠工资想申请援助。"
    )
    async with svc.client(headers=OP) as c:
        async with svc.rt.sessionmaker() as s:
            before = await s.scalar(select(func.count()).select_from(WorkOrder))
        rs = await asyncio.gather(
            *(c.post("/v1/work-orders", json=body, headers={"Idempotency-Key": key}) for _ in range(8))
        )
        assert {r.status_code for r in rs} == {201}
        assert len({r.json()["id"] for r in rs}) == 1
        assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in rs) == 7
        async with svc.rt.sessionmaker() as s:
            assert await s.scalar(select(func.count()).select_from(WorkOrder)) == before + 1
        # Another caller with the same key is a different request (keys are per caller).
        other = await c.post(
            "/v1/work-orders", json=body, headers={"Idempotency-Key": key, **auth("counter_staff")}
        )
        assert other.status_code == 201 and other.json()["status"] == "merged"  # same requester, same matter
        # Keys live ≥ 24 h; the purge job removes older ones.
        clk.advance(hours=49)
        async with svc.rt.sessionmaker() as s, s.begin():
            n = await service.purge_idempotency_keys(s, before=clk.now() - timedelta(hours=48))
            left = await s.scalar(select(func.count()).select_from(IdempotencyKey))
        assert n >= 2 and left == 0


async def test_downstream_events_fold_into_timeline(env):
    svc, clk = env
    async with svc.client(headers=OP) as c:
        o = (
            await c.post("/v1/work-orders", json=order(requester={"name": "时间线", "phone": "13722220000"}))
        ).json()

    async def fold(event_type: str, data: dict, sequence: int | None = None) -> None:
        ev = make_event(
            event_type, source="/lawline/test", payload=Payload(**data), subject=o["id"], sequence=sequence
        )
        clk.advance(seconds=1)
        ev.time = clk.now()  # the services share one (frozen) clock in this test
        async with svc.rt.sessionmaker() as s, s.begin():
            await service.apply_downstream_event(s, event=ev)

    await fold(
        "cn.lawline.dispatch.offered.v1",
        {"work_order_id": o["id"], "service_point_name": "沁县公共法律服务中心"},
        sequence=1,
    )
    await fold(
        "cn.lawline.dispatch.assigned.v1",
        {"work_order_id": o["id"], "service_point_name": "沁县公共法律服务中心"},
        sequence=2,
    )
    await fold("cn.lawline.aid.lawyer_assigned.v1", {"work_order_id": o["id"], "lawyer_name": "不应出现"})
    # Late (an older dispatch revision, e.g. by another county's partition): the status stays.
    await fold("cn.lawline.dispatch.offered.v1", {"work_order_id": o["id"]}, sequence=1)
    await fold("cn.lawline.aid.something.v1", {"case_id": "x"})  # no work_order_id: ignored
    async with svc.client(headers=OP) as c:
        got = (await c.get(f"/v1/work-orders/{o['id']}")).json()
    kinds = [e["kind"] for e in got["timeline"]]
    assert kinds[:4] == ["received", "offered", "assigned", "lawyer_assigned"] and got["status"] == "assigned"
    assert "不应出现" not in str(got["timeline"])


async def test_simultaneous_calls_from_one_person_make_one_order_and_urges(env):
    svc, _ = env
    body = order(
        requester={"name": "同时", "phone": "13766660000"},
        description="同时来电：老板拖欠工资，想申请法律援助。",
    )
    async with svc.client(headers=OP) as c:
        rs = await asyncio.gather(*(c.post("/v1/work-orders", json=body) for _ in range(4)))
    statuses = sorted(r.json()["status"] for r in rs)
    assert statuses == ["merged", "merged", "merged", "received"]
    (kept,) = [r.json()["id"] for r in rs if r.json()["status"] == "received"]
    assert {r.json()["duplicate_of"] for r in rs if r.json()["status"] == "merged"} == {kept}
