"""Duplicates (并单/催办, merge, unmerge, follow-up), the closed loop (callback before close,
rating, return visit), parent/child orders and the citizen's tracking page."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from libs.common.testing.auth import auth
from services.intake.models import ClassificationOverride, outbox
from tests.integration.intake_helpers import clock, intake_without_broker, order

OP = auth("operator", region="1404")


@pytest.fixture(scope="module")
async def env(infra):
    c = clock()
    async with intake_without_broker(infra, c) as svc:
        yield svc, c


async def event_types(svc) -> list[str]:
    async with svc.rt.sessionmaker() as s:
        return [e["type"] for e in (await s.execute(select(outbox.c.event))).scalars().all()]


async def test_same_matter_again_is_an_urge_not_a_new_dispatch(env):
    svc, clk = env
    phone = "13811110001"
    async with svc.client(headers=OP) as c:
        first = (await c.post("/v1/work-orders", json=order(requester={"name": "甲", "phone": phone}))).json()
        before = (await event_types(svc)).count("cn.lawline.workorder.created.v1")
        clk.advance(hours=5)
        again = await c.post(
            "/v1/work-orders",
            json=order(
                requester={"name": "甲", "phone": phone},
                description="老板拖欠我三个月工资一万八还没给，我想申请法律援助，怎么还没人联系我？",
            ),
        )
        assert again.status_code == 201, again.text
        dup = again.json()
        assert dup["status"] == "merged" and dup["duplicate_of"] == first["id"]
        assert dup["warnings"][0]["code"] == "duplicate" and dup["warnings"][0]["number"] == first["number"]
        assert (await event_types(svc)).count(
            "cn.lawline.workorder.created.v1"
        ) == before  # no second dispatch
        assert "cn.lawline.workorder.urged.v1" in await event_types(svc)
        target = (await c.get(f"/v1/work-orders/{first['id']}")).json()
        assert target["urge_count"] == 1 and "urged" in [e["kind"] for e in target["timeline"]]
        # A different matter from the same phone is a new order.
        other = (
            await c.post(
                "/v1/work-orders",
                json=order(
                    requester={"name": "甲", "phone": phone},
                    service_type=None,
                    description="邻居家装修把我家墙震裂了，想请调解员来调解。",
                ),
            )
        ).json()
        assert other["status"] == "received" and other["duplicate_of"] is None

        # Staff unmerge: the request becomes its own order and only now goes to dispatch.
        r = await c.post(f"/v1/work-orders/{dup['id']}/unmerge", json={"reason": "实为另一笔欠薪"})
        assert r.status_code == 200 and r.json()["status"] == "received"
        assert (await event_types(svc)).count("cn.lawline.workorder.created.v1") == before + 2
        assert (await c.get(f"/v1/work-orders/{first['id']}")).json()["urge_count"] == 0
        again_unmerge = await c.post(f"/v1/work-orders/{dup['id']}/unmerge", json={"reason": "再次"})
        assert again_unmerge.status_code == 409
        # Staff merge it back by hand.
        r = await c.post(
            f"/v1/work-orders/{dup['id']}/merge", json={"into": first["id"], "reason": "同一事项"}
        )
        assert r.status_code == 200 and r.json()["merged_into"] == first["id"]
        self_merge = await c.post(
            f"/v1/work-orders/{first['id']}/merge", json={"into": first["id"], "reason": "x"}
        )
        assert self_merge.status_code == 422
    types = await event_types(svc)
    assert {"cn.lawline.workorder.merged.v1", "cn.lawline.workorder.unmerged.v1"} <= set(types)


async def test_callback_before_close_rating_and_return_visit(env):
    svc, clk = env
    async with svc.client(headers=OP) as c:
        o = (
            await c.post("/v1/work-orders", json=order(requester={"name": "乙", "phone": "13811110002"}))
        ).json()
        r = await c.post(f"/v1/work-orders/{o['id']}/close", json={"result_summary": "已办理"})
        assert r.status_code == 409
        assert [m["code"] for m in r.json()["missing"]] == ["callback_missing"]
        early = await c.post(f"/v1/work-orders/{o['id']}/rating", json={"score": 5})
        assert early.status_code == 409  # rating comes after closure
        task = (await c.get(f"/v1/work-orders/{o['id']}")).json()["tasks"][0]
        assert task["kind"] == "callback" and task["status"] == "open"
        for _ in range(2):
            await c.post(f"/v1/tasks/{task['id']}/attempts", json={"outcome": "no_answer"})
        assert (
            await c.post(f"/v1/work-orders/{o['id']}/close", json={"result_summary": "办理中"})
        ).status_code == 409
        r = await c.post(f"/v1/tasks/{task['id']}/attempts", json={"outcome": "reached", "note": "已告知"})
        assert r.status_code == 200 and r.json()["status"] == "done" and len(r.json()["attempts"]) == 3
        assert (
            await c.post(f"/v1/tasks/{task['id']}/attempts", json={"outcome": "reached"})
        ).status_code == 409
        r = await c.post(f"/v1/work-orders/{o['id']}/close", json={"result_summary": "已协助申请仲裁"})
        assert r.status_code == 200 and r.json()["status"] == "closed"
        bad = await c.post(f"/v1/work-orders/{o['id']}/rating", json={"score": 6})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "score"
        # The citizen rates on the web: unsatisfied → a return-visit task.
        anon = svc.client()
        async with anon:
            wrong = await anon.post(
                f"/v1/track/{o['number']}/rating", params={"phone_suffix": "0000"}, json={"score": 1}
            )
            assert wrong.status_code == 404
            r = await anon.post(
                f"/v1/track/{o['number']}/rating",
                params={"phone_suffix": "0002"},
                json={"score": 2, "comment": "等太久"},
            )
            assert r.status_code == 200 and r.json()["can_rate"] is False
            twice = await anon.post(
                f"/v1/track/{o['number']}/rating", params={"phone_suffix": "0002"}, json={"score": 5}
            )
            assert twice.status_code == 409
        got = (await c.get(f"/v1/work-orders/{o['id']}")).json()
        assert got["rating"]["score"] == 2 and got["rating"]["via"] == "web"
        visit = [t for t in got["tasks"] if t["kind"] == "return_visit"]
        assert len(visit) == 1 and visit[0]["status"] == "open"
        open_visits = (await c.get("/v1/tasks", params={"kind": "return_visit"})).json()
        assert visit[0]["id"] in [t["id"] for t in open_visits]
        r = await c.post(
            f"/v1/tasks/{visit[0]['id']}/attempts", json={"outcome": "reached", "note": "已致歉并说明"}
        )
        assert r.json()["status"] == "done"
    types = await event_types(svc)
    assert {
        "cn.lawline.workorder.closed.v1",
        "cn.lawline.workorder.evaluated.v1",
        "cn.lawline.workorder.callback_recorded.v1",
        "cn.lawline.workorder.return_visit_recorded.v1",
    } <= set(types)


async def test_follow_up_on_closed_order_names_it(env):
    svc, clk = env
    phone = "13811110003"
    async with svc.client(headers=OP) as c:
        o = (await c.post("/v1/work-orders", json=order(requester={"name": "丙", "phone": phone}))).json()
        task = (await c.get(f"/v1/work-orders/{o['id']}")).json()["tasks"][0]
        await c.post(f"/v1/tasks/{task['id']}/attempts", json={"outcome": "reached"})
        await c.post(f"/v1/work-orders/{o['id']}/close", json={"result_summary": "已答复"})
        clk.advance(days=3)
        r = (
            await c.post(
                "/v1/work-orders",
                json=order(
                    requester={"name": "丙", "phone": phone},
                    description="上次说的拖欠工资法律援助，老板还是不给，想再申请援助。",
                ),
            )
        ).json()
    assert r["status"] == "received" and r["follow_up_of"] == o["id"]
    assert r["warnings"][0]["code"] == "follow_up"
    async with svc.rt.sessionmaker() as s:
        rows = (await s.execute(select(outbox.c.event))).scalars().all()
    created = [e for e in rows if e["type"].endswith("created.v1") and e["data"]["work_order_id"] == r["id"]]
    assert created[0]["data"]["follow_up_of"] == o["id"]


async def test_parent_cannot_close_while_child_open(env):
    svc, _ = env
    async with svc.client(headers=OP) as c:
        parent = (
            await c.post("/v1/work-orders", json=order(requester={"name": "丁", "phone": "13811110004"}))
        ).json()
        child = (
            await c.post(
                "/v1/work-orders",
                json=order(
                    requester={"name": "丁", "phone": "13811110004"},
                    parent_id=parent["id"],
                    service_type="mediation",
                    description="同一来电：还和邻居因为排水沟吵架，想调解。",
                ),
            )
        ).json()
        assert child["status"] == "received" and child["duplicate_of"] is None
        ptask = (await c.get(f"/v1/work-orders/{parent['id']}")).json()["tasks"][0]
        await c.post(f"/v1/tasks/{ptask['id']}/attempts", json={"outcome": "reached"})
        r = await c.post(f"/v1/work-orders/{parent['id']}/close", json={"result_summary": "办理中"})
        assert r.status_code == 409 and [m["code"] for m in r.json()["missing"]] == ["children_open"]
        assert child["number"] in r.json()["detail"]
        ctask = (await c.get(f"/v1/work-orders/{child['id']}")).json()["tasks"][0]
        await c.post(f"/v1/tasks/{ctask['id']}/attempts", json={"outcome": "reached"})
        assert (
            await c.post(f"/v1/work-orders/{child['id']}/close", json={"result_summary": "调解成功"})
        ).status_code == 200
        assert (
            await c.post(f"/v1/work-orders/{parent['id']}/close", json={"result_summary": "办理中"})
        ).status_code == 200
        assert (await c.get(f"/v1/work-orders/{parent['id']}")).json()["children"] == [child["number"]]


async def test_tracking_is_public_without_personal_data_and_same_404(env):
    svc, _ = env
    async with svc.client(headers=OP) as c:
        o = (
            await c.post("/v1/work-orders", json=order(requester={"name": "戊某某", "phone": "13811110005"}))
        ).json()
    async with svc.client() as anon:
        r = await anon.get(f"/v1/track/{o['number']}", params={"phone_suffix": "0005"})
        assert r.status_code == 200
        text = r.text
        assert "戊某某" not in text and "13811110005" not in text and "拖欠" not in text
        assert r.json()["status_label"] == "已受理" and r.json()["timeline"][0]["kind"] == "received"
        wrong_suffix = await anon.get(f"/v1/track/{o['number']}", params={"phone_suffix": "1234"})
        wrong_number = await anon.get("/v1/track/LW20991231999999", params={"phone_suffix": "0005"})
        assert wrong_suffix.status_code == wrong_number.status_code == 404
        assert wrong_suffix.json() == wrong_number.json()
        assert (await anon.get(f"/v1/track/{o['number']}", params={"phone_suffix": "12"})).status_code == 422
        assert (await anon.get(f"/v1/work-orders/{o['id']}")).status_code == 401


async def test_operator_override_is_kept(env):
    svc, _ = env
    async with svc.client(headers=OP) as c:
        o = (
            await c.post(
                "/v1/work-orders",
                json=order(
                    requester={"name": "己", "phone": "13811110006"},
                    service_type=None,
                    description="我想问一下这个事情怎么处理",
                ),
            )
        ).json()
        r = await c.put(
            f"/v1/work-orders/{o['id']}/classification",
            json={
                "service_type": "mediation",
                "domain": "neighbor",
                "urgency": "urgent",
                "reason": "来电人说明是邻里纠纷",
            },
        )
        assert r.status_code == 200, r.text
        assert r.json()["domain"] == "neighbor" and r.json()["classification"]["by"] == "operator"
        bad = await c.put(f"/v1/work-orders/{o['id']}/classification", json={"domain": "tax", "reason": "xx"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "domain"
        clerk = svc.client(headers=auth("lawyer"))
        async with clerk:
            assert (
                await clerk.put(f"/v1/work-orders/{o['id']}/classification", json={"reason": "xx"})
            ).status_code == 403
    async with svc.rt.sessionmaker() as s:
        n = await s.scalar(select(func.count()).select_from(ClassificationOverride))
        row = (await s.scalars(select(ClassificationOverride))).first()
    assert n == 1 and row.before["domain"] != "neighbor" and row.after["domain"] == "neighbor"


async def test_other_jurisdiction_sees_nothing(env):
    svc, _ = env
    async with svc.client(headers=OP) as c:
        o = (
            await c.post("/v1/work-orders", json=order(requester={"name": "辖区", "phone": "13811110007"}))
        ).json()
        task = (await c.get(f"/v1/work-orders/{o['id']}")).json()["tasks"][0]
    async with svc.client(headers=auth("counter_staff", region="140403")) as luzhou:
        assert (await luzhou.get(f"/v1/work-orders/{o['id']}")).status_code == 404
        assert (
            await luzhou.post(f"/v1/tasks/{task['id']}/attempts", json={"outcome": "reached"})
        ).status_code == 404
        assert (
            await luzhou.post(f"/v1/work-orders/{o['id']}/close", json={"result_summary": "越权"})
        ).status_code == 404
        assert task["id"] not in [t["id"] for t in (await luzhou.get("/v1/tasks")).json()]
        r = await luzhou.post(f"/v1/work-orders/{o['id']}/merge", json={"into": o["id"], "reason": "越权"})
        assert r.status_code in (404, 422)
        assert (await luzhou.post("/v1/caller-lookup", json={"phone": "13811110007"})).json() == []
