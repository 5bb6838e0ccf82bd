"""An order accepted while the broker is down is delivered once the broker is back:
the outbox keeps it, the relay retries, dispatch offers it — nothing a citizen
submitted is lost."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from libs.common.embedded import EmbeddedBroker, free_port
from libs.common.testing.auth import auth
from libs.common.testing.infra import Infra, consumers_ready, services, wait_for

pytestmark = pytest.mark.e2e

ORDER = {
    "channel": "web",
    "requester": {"name": "赵建国", "phone": "13912345678"},
    "region_code": "140425",
    "service_type": "consultation",
    "description": "公司不给缴社保，想咨询怎么维权。",
}


async def test_order_created_while_broker_down_is_delivered_after_it_returns(infra):
    port = free_port()
    broker = EmbeddedBroker(port, log_path=infra.tmp / f"outage-{port}.log").start()
    private = Infra(infra.server_url, broker.bootstrap)
    try:
        async with services(private, "intake", "dispatch") as svc:
            await consumers_ready(*svc.values())
            broker.stop()

            async with svc["intake"].client(headers=auth("operator")) as intake:
                r = await intake.post("/v1/work-orders", json=ORDER)
            assert r.status_code == 201, r.text  # intake keeps accepting work
            order_id = r.json()["id"]

            from services.intake.models import outbox

            await asyncio.sleep(1.5)
            async with svc["intake"].rt.sessionmaker() as s:
                pending = (
                    (
                        await s.execute(
                            select(outbox.c.event["type"].astext).where(outbox.c.published_at.is_(None))
                        )
                    )
                    .scalars()
                    .all()
                )
            assert "cn.lawline.workorder.created.v1" in pending  # held safely in the outbox

            broker = EmbeddedBroker(port, log_path=infra.tmp / f"outage-{port}-b.log").start()

            async with svc["dispatch"].client(headers=auth("supervisor")) as dispatch:

                async def offered():
                    rows = (await dispatch.get("/v1/assignments", params={"work_order_id": order_id})).json()
                    return rows or None

                offers = await wait_for(offered, timeout=90, interval=0.5, what="the offer after the outage")
            assert len(offers) == 1 and offers[0]["status"] == "offered"
    finally:
        broker.stop()
