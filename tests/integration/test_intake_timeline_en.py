"""Every timeline line comes with its English (issue #16 item 8): the lines intake writes itself
(received, callback, closed, rated, merged) and the ones it folds from downstream events, on the
staff order view and on the citizen's tracking page; a line written before it existed reads null."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from libs.common.events import mediation
from libs.common.events.envelope import make_event
from libs.common.testing.auth import auth
from services.intake import fold
from services.intake.models import TimelineEntry
from tests.integration.intake_helpers import T0, clock, intake_without_broker, order

OP = auth("operator", region="1404")
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
async def env(infra):
    c = clock()
    async with intake_without_broker(infra, c) as svc:
        yield svc, c


def by_kind(timeline: list[dict]) -> dict[str, dict]:
    return {e["kind"]: e for e in timeline}


async def test_intake_lines_carry_english_on_the_order_and_the_tracking_page(env):
    svc, _ = env
    async with svc.client(headers=OP) as c:
        o = (
            await c.post("/v1/work-orders", json=order(requester={"name": "王某", "phone": "13811120001"}))
        ).json()
        task = (await c.get(f"/v1/work-orders/{o['id']}")).json()["tasks"][0]
        r = await c.post(f"/v1/tasks/{task['id']}/attempts", json={"outcome": "reached", "note": "已告知"})
        assert r.status_code == 200, r.text
        r = await c.post(f"/v1/work-orders/{o['id']}/close", json={"result_summary": "已答复"})
        assert r.status_code == 200, r.text
        got = by_kind((await c.get(f"/v1/work-orders/{o['id']}")).json()["timeline"])
    assert got["received"]["text"] == f"已受理（网络平台），工单号 {o['number']}"  # the Chinese as before
    assert got["received"]["text_en"] == f"Received (online), order number {o['number']}"
    assert got["callback_attempt"]["text_en"] == "A staff member called you back"
    assert got["closed"]["text"] == "已办结，欢迎对本次服务进行评价"
    assert got["closed"]["text_en"] == "Closed. You are welcome to rate our service"

    async with svc.client() as anon:
        r = await anon.post(
            f"/v1/track/{o['number']}/rating", params={"phone_suffix": "0001"}, json={"score": 5}
        )
        assert r.status_code == 200, r.text
        tracked = (await anon.get(f"/v1/track/{o['number']}", params={"phone_suffix": "0001"})).json()
    public = by_kind(tracked["timeline"])
    assert public["received"]["text_en"] == f"Received (online), order number {o['number']}"
    assert public["evaluated"]["text_en"] == "Thank you: we have received your rating (5 points)"
    for e in tracked["timeline"]:
        assert e["text_en"] and not CJK.search(e["text_en"]), e


async def test_merge_lines_and_folded_events_carry_english_old_rows_null(env):
    svc, _ = env
    async with svc.client(headers=OP) as c:
        first = (
            await c.post("/v1/work-orders", json=order(requester={"name": "李某", "phone": "13811120002"}))
        ).json()
        second = (
            await c.post(
                "/v1/work-orders",
                json=order(
                    requester={"name": "赵某", "phone": "13811120003"},
                    service_type=None,
                    description="邻居家装修把我家墙震裂了，想请调解员来调解。",
                ),
            )
        ).json()
        r = await c.post(
            f"/v1/work-orders/{second['id']}/merge", json={"into": first["id"], "reason": "同一事项"}
        )
        assert r.status_code == 200, r.text

        # A downstream step folded into the first order (mediation sends only its Chinese line).
        event = make_event(
            mediation.CASE_TRANSITIONED,
            source=mediation.SOURCE,
            payload=mediation.MediationCaseTransitionedV1(
                case_id=str(uuid.uuid4()),
                case_number="TJ-2026-0001",
                work_order_id=first["id"],
                county_code="140429",
                action="assign_mediator",
                from_status="registered",
                to_status="registered",
                citizen_text="已由当事人选定人民调解员",
                data={"chosen_by": "parties"},
                at=T0 + timedelta(minutes=5),
            ),
        )
        async with svc.rt.sessionmaker() as s, s.begin():
            await fold.apply_downstream_event(s, event=event)
            # A line written before English existed.
            s.add(
                TimelineEntry(
                    work_order_id=uuid.UUID(first["id"]),
                    at=T0 + timedelta(minutes=6),
                    kind="legacy_line",
                    text="旧的办理记录",
                    public=True,
                    data={},
                )
            )
        merged = by_kind((await c.get(f"/v1/work-orders/{second['id']}")).json()["timeline"])
        survivor = by_kind((await c.get(f"/v1/work-orders/{first['id']}")).json()["timeline"])
    assert merged["merged"]["text"] == f"与工单 {first['number']} 为同一事项，已并单处理"
    assert merged["merged"]["text_en"] == f"The same matter as order {first['number']}: merged into it"
    assert survivor["merged_in"]["text_en"] == f"Order {second['number']} was merged into this one"
    assert survivor["mediation_assign_mediator"]["text"] == "已由当事人选定人民调解员"
    assert (
        survivor["mediation_assign_mediator"]["text_en"]
        == "A people's mediator has been chosen by the parties"
    )
    assert survivor["legacy_line"]["text_en"] is None
