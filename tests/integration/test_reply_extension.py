"""The hotline reply extension "at most 15 working days with approval" (issue #15 item 5): the
handler asks with a reason, a supervisor of the jurisdiction approves or refuses with a reason
(events, audit), and the approved clock is supervised — at-risk warning, overdue ladder — like the
others. The real dispatch app on real PostgreSQL, time moved with an injected clock."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from libs.common.audit import AUDIT
from libs.common.clock import CHINA_TZ, FrozenClock
from libs.common.events import dispatch as ev
from libs.common.testing.auth import auth
from services.dispatch.supervision import sweep_once
from tests.integration.console_helpers import console_for
from tests.integration.test_dispatch_offers import (
    QINXIAN,
    as_handler,
    broker,
    dispatch,
    events,
    new_order,
    offers,
)
from tests.unit.test_console_app import csrf_of, dev_login

__all__ = ["broker"]  # the module-scoped private broker fixture

TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=CHINA_TZ)
SUPERVISOR_ID = "00000000-0000-4000-8000-0000000005e1"
CLOCK = FrozenClock(TUESDAY_10)


@pytest.fixture(scope="module")
async def d(infra, broker):  # type: ignore[no-untyped-def]
    """One dispatch app for the module (a fresh one costs ~9 s); each test makes its own orders."""
    async with dispatch(infra, broker, CLOCK) as app:
        yield app


@pytest.fixture
def clock():  # type: ignore[no-untyped-def]
    CLOCK.at = TUESDAY_10
    return CLOCK


async def accepted_order(d, clock, **fields) -> tuple[str, dict]:  # type: ignore[no-untyped-def]
    oid = await new_order(d, clock, service_type="consultation", description="咨询房屋租赁合同纠纷", **fields)
    async with d.client(headers=auth("supervisor", region=QINXIAN)) as sup:
        (offer,) = await offers(sup, oid)
    async with d.client(headers=as_handler(offer, "lawyer")) as me:
        r = await me.post(f"/v1/assignments/{offer['id']}/accept")
        assert r.status_code == 200, r.text
    return oid, offer


async def order_row(d, oid: str) -> dict:  # type: ignore[no-untyped-def]
    async with d.client(headers=auth("supervisor", region=QINXIAN)) as sup:
        groups = (await sup.get("/v1/supervision/overdue", params={"county_code": QINXIAN})).json()
    rows = [o for g in groups for o in g["orders"] if o["work_order_id"] == oid]
    return rows[0] if rows else {}


async def test_a_supervisor_approves_the_extension_and_the_new_clock_is_supervised(d, clock):
    oid, offer = await accepted_order(d, clock)
    handler = as_handler(offer, "lawyer")
    supervisor = auth("supervisor", region=QINXIAN, staff_id=SUPERVISOR_ID)
    async with d.client(headers=handler) as me, d.client(headers=supervisor) as sup:
        url = f"/v1/work-orders/{oid}/reply-extension"
        stranger = auth("lawyer", region=QINXIAN, staff_id="00000000-0000-4000-8000-0000000000ff")
        r = await me.post(url, json={"reason": "我想延长期限"}, headers=stranger)
        assert r.status_code == 403  # only the order's own handler asks
        r = await me.post(url, json={"reason": "需调取不动产登记档案并征询住建部门意见"})
        assert r.status_code == 201, r.text
        x = r.json()
        # 5 working days from Tue 24 Nov 10:00 → Tue 1 Dec; at most 15 → Tue 15 Dec, same hour.
        assert x["status"] == "requested" and x["allowed_actions"] == ["approve", "refuse"]
        assert datetime.fromisoformat(x["reply_due_before"]) == datetime(2026, 12, 1, 10, 0, tzinfo=CHINA_TZ)
        assert datetime.fromisoformat(x["reply_due_after"]) == datetime(2026, 12, 15, 10, 0, tzinfo=CHINA_TZ)
        assert (await me.post(url, json={"reason": "再次申请延期"})).status_code == 409  # one at a time

        (pending,) = (await sup.get("/v1/reply-extensions", params={"status": "requested"})).json()
        assert pending["id"] == x["id"] and pending["order_number"].startswith("LW")
        elsewhere = auth("supervisor", region="140403")
        r = await sup.post(
            f"/v1/reply-extensions/{x['id']}/approve", json={"reason": "同意"}, headers=elsewhere
        )
        assert r.status_code == 404  # a supervisor of another county cannot decide it
        r = await me.post(f"/v1/reply-extensions/{x['id']}/approve", json={"reason": "同意"})
        assert r.status_code == 403  # the handler cannot approve (role)

        r = await sup.post(f"/v1/reply-extensions/{x['id']}/approve", json={"reason": "案情复杂，同意延长"})
        assert r.status_code == 200, r.text
        approved = r.json()
        assert approved["status"] == "approved" and approved["decided_by"] == SUPERVISOR_ID
        assert approved["decision_reason"] == "案情复杂，同意延长" and approved["allowed_actions"] == []
        r = await sup.post(f"/v1/reply-extensions/{x['id']}/refuse", json={"reason": "改变主意"})
        assert r.status_code == 409
        assert (await me.post(url, json={"reason": "再延长一次"})).status_code == 409  # at the maximum

    (req,) = await events(d, ev.REPLY_EXTENSION_REQUESTED, oid)
    (dec,) = await events(d, ev.REPLY_EXTENSION_DECIDED, oid)
    assert req["reason"].startswith("需调取") and dec["approved"] is True
    # v2 (#17): who asked and who decided, each as a staff id (UUID) and a login name.
    assert dec["supervisor_staff_id"] == SUPERVISOR_ID and dec["supervisor_username"]
    assert "decided_by" not in dec and "requested_by" not in req
    assert req["handler_username"] and ("handler_staff_id" in req)
    assert datetime.fromisoformat(dec["reply_due"]) == datetime(2026, 12, 15, 10, 0, tzinfo=CHINA_TZ)
    async with d.rt.sessionmaker() as s:
        audited = (await s.execute(AUDIT.select().where(AUDIT.c.subject == oid))).mappings().all()
    assert {ev.REPLY_EXTENSION_REQUESTED, ev.REPLY_EXTENSION_DECIDED} <= {a["action"] for a in audited}

    # Past the old due date: nothing is raised, the extended clock is running and fine.
    clock.at = datetime(2026, 12, 2, 12, 0, tzinfo=CHINA_TZ)
    await sweep_once(d.rt.sessionmaker, now=clock.now())
    assert await events(d, ev.OVERDUE, oid) == [] and await order_row(d, oid) == {}
    # 80 % of the extended clock used (it runs 21 days): the at-risk warning, on "max".
    clock.at = datetime(2026, 12, 12, 9, 0, tzinfo=CHINA_TZ)
    await sweep_once(d.rt.sessionmaker, now=clock.now())
    raised = await events(d, ev.OVERDUE, oid)
    assert [(e["clock"], e["level"]) for e in raised] == [("max", 0)]
    row = await order_row(d, oid)
    assert row["clock"] == "max" and row["state"] == "at_risk"
    # Past the extended due date: overdue, up the ladder, each rung once.
    clock.at = datetime(2026, 12, 15, 10, 30, tzinfo=CHINA_TZ)
    await sweep_once(d.rt.sessionmaker, now=clock.now())
    await sweep_once(d.rt.sessionmaker, now=clock.now())
    raised = await events(d, ev.OVERDUE, oid)
    assert [(e["clock"], e["level"], e["notified"]) for e in raised] == [
        ("max", 0, "service_point"),
        ("max", 1, "service_point"),
    ]
    assert (await order_row(d, oid))["state"] == "overdue"
    clock.advance(hours=25)
    await sweep_once(d.rt.sessionmaker, now=clock.now())
    assert [e["notified"] for e in await events(d, ev.OVERDUE, oid)][-1] == "county"


async def test_a_refused_extension_leaves_the_ordinary_clock_and_statutory_periods_are_not_extendable(
    d, clock
):
    oid, offer = await accepted_order(d, clock)
    sup = auth("supervisor", region=QINXIAN, staff_id=SUPERVISOR_ID)
    async with d.client(headers=as_handler(offer, "lawyer")) as me, d.client(headers=sup) as boss:
        x = (
            await me.post(f"/v1/work-orders/{oid}/reply-extension", json={"reason": "当事人补充材料"})
        ).json()
        r = await boss.post(f"/v1/reply-extensions/{x['id']}/refuse", json={"reason": "材料可在期限内补齐"})
        assert r.status_code == 200 and r.json()["status"] == "refused"
        # The ordinary reply clock stands and is supervised as "reply".
        clock.at = datetime(2026, 12, 1, 10, 30, tzinfo=CHINA_TZ)
        await sweep_once(d.rt.sessionmaker, now=clock.now())
        assert ("reply", 1) in [(e["clock"], e["level"]) for e in await events(d, ev.OVERDUE, oid)]
        # Too late to ask now: the reply period ran out.
        r = await me.post(f"/v1/work-orders/{oid}/reply-extension", json={"reason": "再申请一次"})
        assert r.status_code == 409 and "届满" in r.json()["detail"]

        # 法律援助法 Art 43's seven days are the law's, not the hotline's: no extension.
        clock.at = TUESDAY_10 + timedelta(days=7)
        aid_order = await new_order(d, clock, service_type="legal_aid", description="申请法律援助")
        r = await boss.post(f"/v1/work-orders/{aid_order}/reply-extension", json={"reason": "需要更多时间"})
        assert r.status_code == 409 and "第四十三条" in r.json()["detail"]


async def test_the_console_asks_for_and_approves_an_extension_in_chinese(d, clock):
    oid, offer = await accepted_order(d, clock)
    async with console_for(dispatch=d.url) as handler:
        await dev_login(handler, "lawyer", region=QINXIAN, staff_id=offer["staff_id"])
        page = await handler.get("/login")  # any page carries the CSRF token
        r = await handler.post(
            f"/orders/{oid}/reply-extension",
            data={"reason": "需等待鉴定意见"},
            headers={"X-CSRF-Token": csrf_of(page.text)},
        )
        assert r.status_code == 200 and "延期申请已提交" in r.text, r.text
    async with console_for(dispatch=d.url) as boss:
        await dev_login(boss, "supervisor", region=QINXIAN, staff_id=SUPERVISOR_ID)
        page = await boss.get("/extensions")
        assert page.status_code == 200 and "答复期限延期审批" in page.text and "需等待鉴定意见" in page.text
        assert "待审批" in page.text and "批准延期" in page.text
        (x_id,) = set(re.findall(r'hx-post="/extensions/([0-9a-f-]+)/approve"', page.text))
        r = await boss.post(
            f"/extensions/{x_id}/approve",
            data={"reason": "同意"},
            headers={"X-CSRF-Token": csrf_of(page.text)},
        )
        assert r.status_code == 200 and "已批准延期" in r.text, r.text
        page = await boss.get("/extensions")
        assert f'/extensions/{x_id}/approve"' not in page.text and "已批准" in page.text
