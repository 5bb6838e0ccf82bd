"""A person who can no longer act on what they hold gives it back at once (the brief: "an order
can silently stop where nobody can act on it … a person with no login, a role that cannot
accept"). Real stack (intake → broker → dispatch, real PostgreSQL): an order accepted by a
staff member who is then deactivated (identity disables their login with them), and an order
offered to someone whose role then becomes one that takes no offers, are both withdrawn and
offered to someone else in the same request, with the reason in the decision trail and the
citizen's timeline; a change that leaves them able to act keeps the order where it is."""

from __future__ import annotations

from datetime import datetime

from libs.common.clock import CHINA_TZ, FrozenClock
from libs.common.testing.auth import auth
from libs.common.testing.infra import consumers_ready, services, wait_for

TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=CHINA_TZ)
LUZHOU = "140403"  # 潞州区: its centre's officers are on duty on a Tuesday morning
ADMIN = auth("admin", region="1404")


async def _live(dispatch, order_id: str, not_by: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    async def found():  # type: ignore[no-untyped-def]
        rows = (await dispatch.get("/v1/assignments", params={"work_order_id": order_id})).json()
        live = [r for r in rows if r["status"] in ("offered", "accepted") and r["staff_id"] != not_by]
        return live[-1] if live else None

    return await wait_for(found, timeout=30, what="a live offer")


async def test_a_deactivated_holder_and_a_holder_who_can_no_longer_accept_give_their_orders_back(infra):
    clock = FrozenClock(TUESDAY_10)
    async with services(infra, "intake", "dispatch", clock=clock) as svc:
        await consumers_ready(*svc.values())
        async with (
            svc["intake"].client(headers=auth("operator", region="1404")) as intake,
            svc["dispatch"].client(headers=ADMIN) as dispatch,
        ):

            async def file(phone: str, text: str) -> str:
                r = await intake.post(
                    "/v1/work-orders",
                    json={
                        "channel": "hotline",
                        "requester": {"name": "周红梅", "phone": phone},
                        "region_code": LUZHOU,
                        "service_type": "legal_aid",
                        "description": text,
                    },
                )
                assert r.status_code == 201, r.text
                return str(r.json()["id"])

            first = await file("13600000191", "老板拖欠工资三个月，想申请法律援助。")
            offer = await _live(dispatch, first)
            holder = offer["staff_id"]
            me = auth("aid_officer", region=LUZHOU, staff_id=holder)
            assert (
                await dispatch.post(f"/v1/assignments/{offer['id']}/accept", headers=me)
            ).status_code == 200

            # A change that leaves them able to act (their name) keeps the order with them.
            r = await dispatch.patch(f"/v1/staff/{holder}", json={"name": "梁静红二"})
            assert r.status_code == 200, r.text
            kept = await _live(dispatch, first)
            assert (kept["id"], kept["status"]) == (offer["id"], "accepted")

            # Deactivated: the accepted order goes back to routing in the same request.
            r = await dispatch.patch(f"/v1/staff/{holder}", json={"active": False})
            assert r.status_code == 200, r.text
            rows = (await dispatch.get("/v1/assignments", params={"work_order_id": first})).json()
            old = next(a for a in rows if a["id"] == offer["id"])
            assert (old["status"], old["reason_code"]) == ("withdrawn", "holder_changed")
            again = await _live(dispatch, first, not_by=holder)
            assert again["status"] == "offered" and again["staff_id"] != holder
            trail = (await dispatch.get(f"/v1/work-orders/{first}/decisions")).json()
            assert any(d["rule"] == "holder_changed/withdraw" and "已停用" in d["reason"] for d in trail)

            # An offer to someone whose role becomes one that takes no offers (a volunteer).
            second = await file("13600000192", "工伤认定不给办，想申请法律援助。")
            offered = await _live(dispatch, second)
            r = await dispatch.patch(f"/v1/staff/{offered['staff_id']}", json={"role": "volunteer"})
            assert r.status_code == 200, r.text
            moved = await _live(dispatch, second, not_by=offered["staff_id"])
            assert moved["id"] != offered["id"] and moved["staff_id"] != offered["staff_id"]

        # The citizen's timeline says why it moved (intake folded dispatch's events).
        async with svc["intake"].client(headers=auth("operator", region="1404")) as intake:

            async def told():  # type: ignore[no-untyped-def]
                order = (await intake.get(f"/v1/work-orders/{first}")).json()
                return [e for e in order["timeline"] if e["kind"] == "holder_changed"] or None

            [entry] = await wait_for(told, timeout=30, what="the timeline entry")
            assert entry["text"] == "原承办人岗位变动，工单正在重新分派"


async def test_a_mediation_case_follows_its_order_to_the_next_mediator(infra):
    """The mediator who took a mediation order is deactivated: the order goes to another mediator
    (above), and when they accept, the case the first acceptance opened names them as its mediator
    (a step in the case's record), instead of keeping the one who left."""
    clock = FrozenClock(TUESDAY_10)
    async with services(infra, "intake", "dispatch", "mediation", clock=clock) as svc:
        await consumers_ready(*svc.values())
        async with (
            svc["intake"].client(headers=auth("operator", region="1404")) as intake,
            svc["dispatch"].client(headers=ADMIN) as dispatch,
            svc["mediation"].client(headers=auth("supervisor", region="1404")) as mediation,
        ):
            r = await intake.post(
                "/v1/work-orders",
                json={
                    "channel": "hotline",
                    "requester": {"name": "牛小平", "phone": "13600000193"},
                    "region_code": LUZHOU,
                    "service_type": "mediation",
                    "description": "邻居家装修把我家墙震裂了，想请调解员来调解赔偿。",
                },
            )
            assert r.status_code == 201, r.text
            order_id = str(r.json()["id"])

            async def accept_live(not_by: str | None = None) -> str:
                offer = await _live(dispatch, order_id, not_by=not_by)
                me = auth("mediator", region=LUZHOU, staff_id=offer["staff_id"])
                r = await dispatch.post(f"/v1/assignments/{offer['id']}/accept", headers=me)
                assert r.status_code == 200, r.text
                return str(offer["staff_id"])

            async def case_mediator(want: str) -> dict:
                async def found():  # type: ignore[no-untyped-def]
                    rows = (await mediation.get("/v1/cases", params={"work_order_id": order_id})).json()
                    rows = rows["items"] if isinstance(rows, dict) else rows
                    return rows[0] if rows and rows[0]["mediator_staff_id"] == want else None

                return await wait_for(found, timeout=30, what=f"the case with mediator {want}")

            first = await accept_live()
            case = await case_mediator(first)
            assert (await dispatch.patch(f"/v1/staff/{first}", json={"active": False})).status_code == 200
            second = await accept_live(not_by=first)
            assert second != first
            followed = await case_mediator(second)
            assert followed["id"] == case["id"]  # the same case, not a second one
            detail = (await mediation.get(f"/v1/cases/{case['id']}")).json()
            assert detail["mediator_chosen_by"] == "committee"
