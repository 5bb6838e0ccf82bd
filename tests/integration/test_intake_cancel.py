"""撤销 (issue #16): an order filed by mistake is cancelled with a reason before anyone took it on —
terminal, out of every closure rate, the citizen told; one in someone's hands is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from libs.common.testing.auth import auth
from services.intake.models import WorkOrder
from tests.integration.intake_helpers import T0, clock, intake_without_broker, order

OP = auth("operator", region="1404")


@pytest.fixture(scope="module")
async def env(infra):
    c = clock()
    async with intake_without_broker(infra, c) as svc:
        yield svc, c


async def test_cancel_before_anyone_took_it_on(env):
    svc, _ = env
    async with svc.client(headers=OP) as c:
        mistaken = (
            await c.post("/v1/work-orders", json=order(requester={"name": "测", "phone": "13900003001"}))
        ).json()
        r = await c.post(f"/v1/work-orders/{mistaken['id']}/cancel", json={"reason": "试拨电话，误建工单"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "cancelled" and body["closed_at"]
        assert body["timeline"][-1]["text"] == "工单已撤销（登记有误）"
        again = await c.post(f"/v1/work-orders/{mistaken['id']}/cancel", json={"reason": "再撤一次"})
        assert again.status_code == 409
        listed = (await c.get("/v1/work-orders", params={"status": "cancelled"})).json()["items"]
        assert [o["id"] for o in listed] == [mistaken["id"]]

        taken = (
            await c.post("/v1/work-orders", json=order(requester={"name": "乙", "phone": "13900003002"}))
        ).json()
        async with svc.rt.sessionmaker() as s, s.begin():
            await s.execute(update(WorkOrder).where(WorkOrder.id == taken["id"]).values(status="assigned"))
        refused = await c.post(f"/v1/work-orders/{taken['id']}/cancel", json={"reason": "误建"})
        assert refused.status_code == 409 and "已有人承办" in refused.json()["detail"]
        short = await c.post(f"/v1/work-orders/{taken['id']}/cancel", json={"reason": "x"})
        assert short.status_code == 422 and short.json()["errors"][0]["field"] == "reason"

    day = T0.date().isoformat()
    async with svc.client(headers=auth("supervisor", region="1404")) as sup:
        figures = (await sup.get("/v1/stats/orders", params={"date_from": day, "date_to": day})).json()
        t = figures["totals"]
        assert (t["orders"], t["cancelled"], t["counted"], t["closed"]) == (2, 1, 1, 0)  # not 办结
