"""并入此单 (issue #16): an operator's word that a repeat call is about the caller's open order —
of whatever type — records an urge on it in the same transaction, and the call is never
dispatched; a closed target is refused with a field error the console shows beside the field."""

from __future__ import annotations

import pytest

from libs.common.testing.auth import auth
from tests.integration.intake_helpers import clock, intake_without_broker, order

OP = auth("operator", region="1404")
PHONE = "13900002001"


@pytest.fixture(scope="module")
async def env(infra):
    c = clock()
    async with intake_without_broker(infra, c) as svc:
        yield svc, c


async def test_urge_of_merges_the_call_into_the_open_order_as_an_urge(env):
    svc, clk = env
    async with svc.client(headers=OP) as c:
        first = await c.post(
            "/v1/work-orders",
            json=order(
                service_type="mediation",
                requester={"name": "韩秀兰", "phone": PHONE},
                description="承包地被邻居占了一半，想调解。",
            ),
        )
        assert first.status_code == 201, first.text
        kept = first.json()
        clk.advance(minutes=30)
        # Another type and other words: intake's own duplicate check would file it as new.
        body = order(
            service_type="consultation",
            requester={"name": "韩秀兰", "phone": PHONE},
            description="上次的事怎么还没人联系我？",
            urge_of=kept["id"],
        )
        r = await c.post("/v1/work-orders", json=body)
        assert r.status_code == 201, r.text
        call = r.json()
        assert call["status"] == "merged" and call["duplicate_of"] == kept["id"]
        target = (await c.get(f"/v1/work-orders/{kept['id']}")).json()
        assert target["urge_count"] == 1
        assert any("催办" in e["text"] for e in target["timeline"])
        merged = (await c.get(f"/v1/work-orders/{call['id']}")).json()
        assert merged["due_at"] is None  # never dispatched: no clock of its own

        # A closed order cannot be urged: the field says so, in both languages.
        answered = await c.post(
            "/v1/work-orders",
            json=order(
                channel="hotline",
                service_type="consultation",
                requester={"name": "甲", "phone": "13900002002"},
                description="问问继承的事",
                hotline={
                    "call_id": "c1",
                    "operator_id": "op",
                    "call_started_at": clk.now().isoformat(),
                    "answered_on_call": True,
                    "answer_summary": "已解答",
                },
            ),
        )
        assert answered.status_code == 201, answered.text
        bad = await c.post(
            "/v1/work-orders",
            json=order(urge_of=answered.json()["id"], requester={"name": "甲", "phone": "13900002002"}),
        )
        assert bad.status_code == 422
        err = bad.json()["errors"][0]
        assert err["field"] == "urge_of" and "已办结" in err["message"] and "closed" in err["message_en"]
        # An order outside the caller's jurisdiction looks like one that does not exist.
        other = auth("operator", region="140403")
        async with svc.client(headers=other) as luzhou:
            r = await luzhou.post("/v1/work-orders", json=order(region_code="140403", urge_of=kept["id"]))
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "urge_of"
