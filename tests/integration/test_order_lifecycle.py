"""Dispatch follows the order's whole life, and intake's status follows dispatch both ways
(issue #15) — intake and dispatch on real PostgreSQL and a real broker, every change made
through intake's API and carried by Kafka, as in production."""

from __future__ import annotations

import uuid

import pytest

from libs.common.clock import FrozenClock
from libs.common.events import dispatch as dispatch_events
from libs.common.events import intake as intake_events
from libs.common.events.envelope import make_event
from libs.common.handlers import parse
from libs.common.testing.infra import wait_for
from services.dispatch import lifecycle
from services.dispatch.supervision import sweep_once
from services.intake import fold
from tests.integration.lifecycle_helpers import (
    OPERATOR,
    QINXIAN,
    SUPERVISOR,
    T0,
    WUXIANG,
    accept,
    as_staff,
    assignments,
    create,
    decisions,
    intake_order,
    intake_status,
    lifecycle_stack,
    open_offer,
    rows,
    settled,
    snapshot,
)

CLOCK = FrozenClock(T0)


@pytest.fixture(scope="module")
async def stack(infra):
    async with lifecycle_stack(infra, CLOCK) as running:
        yield running


async def classify(intake, order_id: str, **fields) -> None:  # type: ignore[no-untyped-def]
    async with intake.client(headers=OPERATOR) as c:
        r = await c.put(f"/v1/work-orders/{order_id}/classification", json={"reason": "核实后更正", **fields})
        assert r.status_code == 200, r.text


async def test_reclassification_withdraws_an_offer_that_no_longer_fits(stack):
    intake, dispatch = stack["intake"], stack["dispatch"]
    order = await create(intake)
    first = await open_offer(dispatch, order["id"])
    assert first["role"] == "aid_officer"

    await classify(intake, order["id"], service_type="mediation", domain="neighbor")
    second = await open_offer(dispatch, order["id"], not_id=first["id"])
    assert second["role"] == "mediator"  # offered again under the new facts
    [withdrawn] = [a for a in await assignments(dispatch, order["id"]) if a["id"] == first["id"]]
    assert (withdrawn["status"], withdrawn["reason_code"]) == ("withdrawn", "reclassified")
    snap = await snapshot(dispatch, order["id"])
    assert (snap["service_type"], snap["domain"], snap["offers_made"]) == ("mediation", "neighbor", 1)
    rules = [d["rule"] for d in await decisions(dispatch, order["id"])]
    assert rules[0].startswith("legal-aid") and rules[1] == "reclassified/withdraw"
    assert rules[2].startswith("mediation-")
    reason = (await decisions(dispatch, order["id"]))[1]["reason"]
    assert "legal_aid→mediation" in reason and "mediator" in reason

    # The withdrawn officer's capacity is back; intake went 重新分派中 → 已分派, and says why.
    [officer] = await rows(dispatch, "SELECT active_load FROM staff WHERE id = :s", s=first["staff_id"])
    assert officer["active_load"] == 0
    seen = await settled(intake, dispatch, order["id"])
    assert seen["status"] == "offered"
    assert "工单服务类型已调整，正在重新分派" in [e["text"] for e in seen["timeline"]]


async def test_an_accepted_handler_keeps_it_and_a_return_routes_by_the_current_type(stack):
    intake, dispatch = stack["intake"], stack["dispatch"]
    order = await create(intake)
    offer = await open_offer(dispatch, order["id"])
    await accept(dispatch, offer)
    await intake_status(intake, order["id"], "assigned")

    # 投诉: the county centre's general counter rule, which aid officers serve — the handler keeps it.
    await classify(
        intake, order["id"], service_type="complaint", urgency="urgent", special_groups=["elderly"]
    )

    async def kept():  # type: ignore[no-untyped-def]
        d = await decisions(dispatch, order["id"])
        return d if d[-1]["rule"] == "reclassified/keep" else None

    kept_rows = await wait_for(kept, timeout=15, what="the keep decision")
    assert str(kept_rows[-1]["chosen_staff_id"]) == str(offer["staff_id"])
    snap = await snapshot(dispatch, order["id"])
    assert (snap["service_type"], snap["urgency"], snap["priority"]) == ("complaint", "urgent", 0)
    assert snap["special_groups"] == ["elderly"] and snap["status"] == "assigned"
    # The clocks were recomputed for the new urgency, from receipt: transfer within the hour.
    assert (snap["transfer_due"] - snap["received_at"]).total_seconds() == 3600

    # 退单: routed again by its CURRENT type (it used to be routed by the old one).
    async with dispatch.client(headers=as_staff(offer["role"], offer["staff_id"], QINXIAN)) as c:
        r = await c.post(f"/v1/assignments/{offer['id']}/return", json={"reason": "不属于本人受理范围"})
        assert r.status_code == 200, r.text
    again = await open_offer(dispatch, order["id"], not_id=offer["id"])
    assert again["staff_id"] != offer["staff_id"]
    assert (await decisions(dispatch, order["id"]))[-1]["rule"].startswith("county-window-default")

    # The citizen's page no longer says 已接单: 重新分派中 and then 已分派, with the reason.
    async with intake.client() as anon:

        async def tracked():  # type: ignore[no-untyped-def]
            r = await anon.get(f"/v1/track/{order['number']}", params={"phone_suffix": order["phone"][-4:]})
            page = r.json()
            return page if page["status"] == "offered" else None

        page = await wait_for(tracked, timeout=15, what="the tracking page")
    assert page["status_label"] == "已分派"
    assert "工单已退回，正在重新分派" in [e["text"] for e in page["timeline"]]


async def test_merge_withdraws_the_merged_offer_raises_the_survivor_and_unmerge_routes_again(stack):
    intake, dispatch = stack["intake"], stack["dispatch"]
    survivor = await create(
        intake, description="邻居占用我家宅基地，多次协商无果。", service_type="mediation", domain="neighbor"
    )
    refiling = await create(
        intake,
        description="宅基地被邻居占了，对方还动手，家里有老人。",
        service_type="mediation",
        domain="neighbor",
        urgency="urgent",
        special_groups=["elderly"],
    )
    s_offer = await open_offer(dispatch, survivor["id"])
    r_offer = await open_offer(dispatch, refiling["id"])

    async with intake.client(headers=OPERATOR) as c:
        r = await c.post(
            f"/v1/work-orders/{refiling['id']}/merge", json={"into": survivor["id"], "reason": "同一事项"}
        )
        assert r.status_code == 200, r.text

    async def merged():  # type: ignore[no-untyped-def]
        snap = await snapshot(dispatch, refiling["id"])
        return snap if snap["status"] == "merged" else None

    await wait_for(merged, timeout=15, what="dispatch's copy closed as merged")
    [gone] = [a for a in await assignments(dispatch, refiling["id"]) if a["id"] == r_offer["id"]]
    assert (gone["status"], gone["reason_code"]) == ("withdrawn", "merged")
    # One matter, one live offer between the two orders.
    live = [
        a
        for o in (survivor, refiling)
        for a in await assignments(dispatch, o["id"])
        if a["status"] in ("offered", "accepted")
    ]
    assert [a["id"] for a in live] == [s_offer["id"]]

    # The survivor takes the re-filing's urgency and groups — announced, so dispatch follows.
    async def raised():  # type: ignore[no-untyped-def]
        snap = await snapshot(dispatch, survivor["id"])
        return snap if snap["urgency"] == "urgent" else None

    snap = await wait_for(raised, timeout=15, what="the survivor raised at dispatch")
    assert snap["special_groups"] == ["elderly"] and snap["priority"] == 0
    seen = await intake_order(intake, survivor["id"])
    assert (seen["urgency"], seen["special_groups"]) == ("urgent", ["elderly"])

    # Unmerge: back to routing at dispatch, 重新分派中 → 已分派 at intake (never 已受理 with an offer open).
    async with intake.client(headers=OPERATOR) as c:
        r = await c.post(f"/v1/work-orders/{refiling['id']}/unmerge", json={"reason": "核实为两件事"})
        assert r.status_code == 200 and r.json()["status"] == "rerouting", r.text
    await open_offer(dispatch, refiling["id"], not_id=r_offer["id"])
    assert (await decisions(dispatch, refiling["id"]))[-2]["rule"] == "unmerged/reroute"
    assert (await settled(intake, dispatch, refiling["id"]))["status"] == "offered"


async def test_a_transfer_across_counties_gives_the_new_handler_the_order_contact_and_callback(stack):
    """转办 to a named person of another county: the order stays in 沁县, its handler is in 武乡县."""
    intake, dispatch = stack["intake"], stack["dispatch"]
    order = await create(intake)
    offer = await open_offer(dispatch, order["id"])
    await accept(dispatch, offer)
    [b] = await rows(
        dispatch,
        "SELECT id, role FROM staff WHERE county_code = :c AND role = 'aid_officer' ORDER BY code LIMIT 1",
        c=WUXIANG,
    )
    a_token = as_staff("aid_officer", offer["staff_id"], QINXIAN)
    b_token = as_staff("aid_officer", b["id"], WUXIANG)
    async with dispatch.client(headers=a_token) as c:
        r = await c.post(
            f"/v1/work-orders/{order['id']}/transfer",
            json={"to_staff_id": str(b["id"]), "reason": "求助人在武乡务工"},
        )
        assert r.status_code == 200, r.text
        transfer = r.json()
    assert (await settled(intake, dispatch, order["id"]))["status"] == "offered"

    async with intake.client(headers=b_token) as c, dispatch.client(headers=b_token) as d:
        # Offered: B sees the order and its offers (to decide), not yet the phone number.
        assert (await c.get(f"/v1/work-orders/{order['id']}")).status_code == 200
        assert [a["id"] for a in (await d.get("/v1/inbox")).json()] == [transfer["id"]]
        assert (await d.get("/v1/assignments", params={"work_order_id": order["id"]})).json()
        contact = f"/v1/work-orders/{order['id']}/contact"
        assert (await c.get(contact, params={"reason": "回拨求助人"})).status_code == 404
        assert (await d.post(f"/v1/assignments/{transfer['id']}/accept")).status_code == 200
        assert (await settled(intake, dispatch, order["id"]))["status"] == "assigned"
        # Accepted: the contact details (audited), the callback task, the order in the list.
        r = await c.get(contact, params={"reason": "回拨求助人"})
        assert r.status_code == 200 and r.json()["phone"].startswith("139"), r.text
        [task] = (await c.get("/v1/tasks", params={"work_order_id": order["id"]})).json()
        assert task["kind"] == "callback"
        r = await c.post(f"/v1/tasks/{task['id']}/attempts", json={"outcome": "no_answer"})
        assert r.status_code == 200, r.text
        listed = (await c.get("/v1/work-orders")).json()["items"]
        assert [o["id"] for o in listed] == [order["id"]]  # theirs only: nothing else of 沁县
    audit = await rows(
        intake,
        "SELECT actor, detail FROM audit_log WHERE subject = :s AND action = 'pii.unmasked_read'",
        s=order["id"],
    )
    assert [a["actor"] for a in audit] == [str(b["id"])] and audit[0]["detail"]["reason"] == "回拨求助人"

    # A, who handed it on, and a lawyer of 沁县 who never had it: not found.
    for token in (a_token, as_staff("lawyer", uuid.uuid4(), QINXIAN)):
        async with intake.client(headers=token) as c:
            assert (await c.get(f"/v1/work-orders/{order['id']}")).status_code == 404
            assert order["id"] not in str((await c.get("/v1/work-orders")).json())
    # The county's counter staff still see it: they register and look up.
    async with intake.client(headers=as_staff("counter_staff", uuid.uuid4(), QINXIAN)) as c:
        assert (await c.get(f"/v1/work-orders/{order['id']}")).status_code == 200


async def test_a_county_transfer_routes_the_order_in_the_new_county(stack):
    intake, dispatch = stack["intake"], stack["dispatch"]
    order = await create(intake)
    offer = await open_offer(dispatch, order["id"])
    await accept(dispatch, offer)
    assert (await settled(intake, dispatch, order["id"]))["status"] == "assigned"  # intake knows its handler
    handler = as_staff("aid_officer", offer["staff_id"], QINXIAN)
    async with intake.client(headers=handler) as c:
        same = await c.post(
            f"/v1/work-orders/{order['id']}/county-transfer",
            json={"region_code": f"{QINXIAN}001", "reason": "x地"},
        )
        assert same.status_code == 422 and same.json()["errors"][0]["field"] == "region_code"
        r = await c.post(
            f"/v1/work-orders/{order['id']}/county-transfer",
            json={"region_code": f"{WUXIANG}003", "reason": "求助人实际居住在武乡县"},
        )
        assert r.status_code == 200, r.text
        moved = r.json()
    assert (moved["county_code"], moved["status"]) == (WUXIANG, "rerouting")
    assert any("工单已转至" in e["text"] and "武乡县" in e["text"] for e in moved["timeline"])

    fresh = await open_offer(dispatch, order["id"], not_id=offer["id"])
    assert fresh["staff_county"] == WUXIANG
    [old] = [a for a in await assignments(dispatch, order["id"]) if a["id"] == offer["id"]]
    assert (old["status"], old["reason_code"]) == ("withdrawn", "county_transfer")
    snap = await snapshot(dispatch, order["id"])
    assert (snap["county_code"], snap["region_code"]) == (WUXIANG, f"{WUXIANG}003")
    assert "county_transfer/reroute" in [d["rule"] for d in await decisions(dispatch, order["id"])]
    assert (await settled(intake, dispatch, order["id"]))["status"] == "offered"
    [task] = await rows(
        intake, "SELECT region_code FROM tasks WHERE work_order_id = :o", o=uuid.UUID(order["id"])
    )
    assert task["region_code"] == f"{WUXIANG}003"  # the callback went with it
    # The old handler lost it; 武乡县's supervisor has it; 沁县's does not any more.
    async with intake.client(headers=handler) as c:
        assert (await c.get(f"/v1/work-orders/{order['id']}")).status_code == 404
    async with intake.client(headers=as_staff("supervisor", uuid.uuid4(), WUXIANG)) as c:
        assert (await c.get(f"/v1/work-orders/{order['id']}")).status_code == 200
    async with intake.client(headers=as_staff("supervisor", uuid.uuid4(), QINXIAN)) as c:
        assert (await c.get(f"/v1/work-orders/{order['id']}")).status_code == 404


async def test_late_events_of_a_moved_order_change_nothing_on_either_side(stack):
    """After a move, the order's older events can still arrive by the old county's partition."""
    intake, dispatch = stack["intake"], stack["dispatch"]
    order = await create(intake)
    await open_offer(dispatch, order["id"])
    async with intake.client(headers=SUPERVISOR) as c:
        r = await c.post(
            f"/v1/work-orders/{order['id']}/county-transfer",
            json={"region_code": WUXIANG, "reason": "属地管辖"},
        )
        assert r.status_code == 200, r.text

    async def moved():  # type: ignore[no-untyped-def]
        snap = await snapshot(dispatch, order["id"])
        return snap if snap["county_code"] == WUXIANG and snap["status"] == "offered" else None

    before = await wait_for(moved, timeout=15, what="the move at dispatch")
    assert (await settled(intake, dispatch, order["id"]))["status"] == "offered"
    n_decisions = len(await decisions(dispatch, order["id"]))

    # Dispatch: a reclassification older than the move (its revision) changes nothing (sent as
    # the deprecated v1 an old outbox may still relay: dispatch accepts both).
    late = make_event(
        intake_events.WORKORDER_CLASSIFIED_V1,
        source=intake_events.SOURCE,
        subject=order["id"],
        payload=intake_events.WorkOrderClassifiedV1(
            work_order_id=order["id"],
            county_code=QINXIAN,
            service_type="mediation",
            by="operator",
            classified_at=T0,
        ),
        sequence=before["intake_seq"] - 1,
    )
    async with dispatch.rt.sessionmaker() as s, s.begin():
        await lifecycle.on_classified(
            s, event=late, data=parse(intake_events.WorkOrderClassifiedV1, late), now=CLOCK.now()
        )
    after = await snapshot(dispatch, order["id"])
    assert (after["service_type"], after["county_code"]) == ("legal_aid", WUXIANG)
    assert len(await decisions(dispatch, order["id"])) == n_decisions

    # Intake: a dispatch event older than the last folded reaches the timeline, not the status.
    [row] = await rows(intake, "SELECT dispatch_seq FROM work_orders WHERE id = :o", o=uuid.UUID(order["id"]))
    stale = make_event(
        dispatch_events.ESCALATED,
        source=dispatch_events.SOURCE,
        subject=order["id"],
        payload=dispatch_events.EscalatedV1(
            work_order_id=order["id"], county_code=QINXIAN, reason="旧县（区）无人接单", escalated_at=T0
        ),
        sequence=row["dispatch_seq"] - 1,
    )
    async with intake.rt.sessionmaker() as s, s.begin():
        await fold.apply_downstream_event(s, event=stale)
    seen = await intake_order(intake, order["id"])
    assert seen["status"] == "offered" and "已提交上级督办" in [e["text"] for e in seen["timeline"]]


async def test_after_escalation_and_a_return_the_tracking_page_says_so(stack):
    """Last in this module: it moves the shared clock (every open offer times out)."""
    intake, dispatch = stack["intake"], stack["dispatch"]
    order = await create(intake)
    await open_offer(dispatch, order["id"])
    for minutes in (31, 31, 61):  # three offers time out → the supervisor queue
        CLOCK.advance(minutes=minutes)
        await sweep_once(dispatch.rt.sessionmaker, now=CLOCK.now())
    await intake_status(intake, order["id"], "escalated")
    [staff] = await rows(
        dispatch,
        "SELECT id FROM staff WHERE county_code = :c AND role = 'aid_officer' ORDER BY code LIMIT 1",
        c=QINXIAN,
    )
    async with dispatch.client(headers=SUPERVISOR) as c:
        r = await c.post(
            f"/v1/work-orders/{order['id']}/transfer",
            json={"to_staff_id": str(staff["id"]), "reason": "指定承办"},
        )
        assert r.status_code == 200, r.text
        pick = r.json()
    await accept(dispatch, {**pick, "role": "aid_officer"})
    await intake_status(intake, order["id"], "assigned")
    async with dispatch.client(headers=as_staff("aid_officer", staff["id"], QINXIAN)) as c:
        r = await c.post(f"/v1/assignments/{pick['id']}/return", json={"reason": "需补充材料后再派"})
        assert r.status_code == 200, r.text
    seen = await intake_status(intake, order["id"], "escalated")  # max offers reached: back to the queue
    texts = [e["text"] for e in seen["timeline"]]
    assert texts.count("已提交上级督办") == 2 and "工单已退回，正在重新分派" in texts
