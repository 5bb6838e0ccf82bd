"""GET /v1/stats/orders on the real PostgreSQL: counted by the database for any date range, China
days, scoped to the caller's jurisdiction (issue #16: the dashboard paged every order and fetched
closed ones one by one; a county supervisor saw eleven other counties at false zeros)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from libs.common.testing.auth import auth
from tests.integration.intake_helpers import T0, clock, intake_without_broker, order

OP = auth("operator", region="1404")
CITY = auth("supervisor", region="1404")
QINXIAN = auth("supervisor", region="140430")


def answered(phone: str, region: str) -> dict:
    return order(
        channel="hotline",
        service_type="consultation",
        region_code=region,
        requester={"name": "统计人", "phone": phone},
        description="问一下劳动合同到期不续签有没有补偿。",
        hotline={
            "call_id": f"c-{phone}",
            "operator_id": "op-1",
            "call_started_at": T0.isoformat(),
            "answered_on_call": True,
            "answer_summary": "可以要求经济补偿，按工作年限计算。",
        },
    )


@pytest.fixture(scope="module")
async def env(infra):
    c = clock()
    async with intake_without_broker(infra, c) as svc:
        yield svc, c


async def test_figures_for_a_range_counted_in_china_days_and_scoped(env):
    svc, clk = env
    async with svc.client(headers=OP) as op:
        # 24 Nov, 09:30 China: two answered on the call in 沁县 (closed), one rated 5, one rated 2.
        done = []
        for phone in ("13900001001", "13900001002"):
            r = await op.post("/v1/work-orders", json=answered(phone, "140430003"))
            assert r.status_code == 201, r.text
            done.append(r.json())
        for o, score in zip(done, (5, 2), strict=True):
            assert (
                await op.post(f"/v1/work-orders/{o['id']}/rating", json={"score": score})
            ).status_code == 200
        # An open legal-aid request by web in 潞州区, the same day.
        r = await op.post(
            "/v1/work-orders",
            json=order(region_code="140403", requester={"name": "甲", "phone": "13900001003"}),
        )
        assert r.status_code == 201, r.text
        # 30 Nov at 23:30 China (15:30 UTC): still November in China, not 1 December.
        clk.advance(days=6, hours=14)
        assert (clk.now() + timedelta(hours=8)).strftime("%m-%d %H:%M") == "11-30 23:30"
        r = await op.post(
            "/v1/work-orders",
            json=order(region_code="140430", requester={"name": "乙", "phone": "13900001004"}),
        )
        assert r.status_code == 201, r.text

        items = (await op.get("/v1/work-orders", params={"limit": 10})).json()["items"]
        closed = [i for i in items if i["status"] == "closed"]
        assert len(closed) == 2 and all(i["closed_at"] and i["county_code"] == "140430" for i in closed)
        assert sorted(i["rating_score"] for i in closed) == [2, 5]

    async with svc.client(headers=CITY) as city:
        nov = (
            await city.get("/v1/stats/orders", params={"date_from": "2026-11-01", "date_to": "2026-11-30"})
        ).json()
        t = nov["totals"]
        assert (t["orders"], t["closed"], t["rated"], t["satisfied"]) == (4, 2, 2, 1)
        assert t["closure_rate"] == 0.5 and t["satisfaction"] == 0.5 and t["rating_avg"] == 3.5
        assert nov["by_channel"]["hotline"] == 2 and nov["by_channel"]["web"] == 2
        days = {d["day"]: d["orders"] for d in nov["by_day"]}
        assert days["2026-11-24"] == 3 and days["2026-11-30"] == 1 and len(days) == 30
        ranked = [(c["county_code"], c["orders"]) for c in nov["counties"]]
        assert ranked[0] == ("140430", 3) and ("140403", 1) in ranked and len(ranked) == 12
        dec = (
            await city.get("/v1/stats/orders", params={"date_from": "2026-12-01", "date_to": "2026-12-01"})
        ).json()
        assert dec["totals"]["orders"] == 0 and dec["totals"]["closure_rate"] is None

        bad = await city.get("/v1/stats/orders", params={"date_from": "2026-11-30", "date_to": "2026-11-01"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "date_to"
        assert "结束日期" in bad.json()["errors"][0]["message"]

    async with svc.client(headers=QINXIAN) as county:
        mine = (
            await county.get("/v1/stats/orders", params={"date_from": "2026-11-01", "date_to": "2026-11-30"})
        ).json()
        assert mine["totals"]["orders"] == 3
        assert [c["county_code"] for c in mine["counties"]] == ["140430"]
        other = await county.get(
            "/v1/stats/orders",
            params={"date_from": "2026-11-01", "date_to": "2026-11-30", "region": "140403"},
        )
        assert other.status_code == 403 and other.json()["errors"][0]["field"] == "region"

    async with svc.client(headers=OP) as op:
        assert (
            await op.get("/v1/stats/orders", params={"date_from": "2026-11-01", "date_to": "2026-11-30"})
        ).status_code == 403
