"""The README's own flow, as a reader runs it, by day and at night: log in as op_140430 with
the documented demo password, file the README's order, find who has it from the offer's
staff code (`GET /v1/assignments?work_order_id=…`), log in as that staff code with the same
password, see it in that person's inbox and accept it — whoever the router picked."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from libs.common.clock import CHINA_TZ, FrozenClock
from libs.common.testing.infra import consumers_ready, services, wait_for
from services.identity.domain import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

README_ORDER = {
    "channel": "hotline",
    "requester": {"name": "王秀英", "phone": "13834567890"},
    "region_code": "140430003",
    "description": "老板拖欠我三个月工资一万八，家里没钱请律师。",
}


async def login(identity, username: str) -> dict:  # type: ignore[no-untyped-def]
    r = await identity.post("/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, f"{username}: {r.status_code} {r.text}"
    body = r.json()
    return {"user": body["user"], "headers": {"Authorization": f"Bearer {body['access_token']}"}}


async def test_whoever_gets_the_readme_order_can_log_in_see_it_and_accept_it(infra):
    # A Tuesday in 沁县: 10:00, when the centre is open, and 23:30, when it is not.
    clock = FrozenClock(datetime(2026, 12, 1, 10, 0, tzinfo=CHINA_TZ))
    async with services(infra, "identity", "intake", "dispatch", clock=clock) as svc:
        await consumers_ready(*svc.values())
        async with (
            svc["identity"].client() as identity,
            svc["intake"].client() as intake,
            svc["dispatch"].client() as dispatch,
        ):
            operator = await login(identity, "op_140430")
            # Two callers (one caller twice would be the same matter: 并单).
            for at, phone in (
                (datetime(2026, 12, 1, 10, 0), "13834567890"),
                (datetime(2026, 12, 1, 23, 30), "13934567891"),
            ):
                clock.at = at.replace(tzinfo=CHINA_TZ)
                r = await intake.post(
                    "/v1/work-orders",
                    json={**README_ORDER, "requester": {**README_ORDER["requester"], "phone": phone}},
                    headers={**operator["headers"], "Idempotency-Key": str(uuid.uuid4())},
                )
                assert r.status_code == 201, r.text
                order = r.json()

                async def offered(order_id: str = order["id"]):  # type: ignore[no-untyped-def]
                    rows = await dispatch.get(
                        "/v1/assignments", params={"work_order_id": order_id}, headers=operator["headers"]
                    )
                    return [a for a in rows.json() if a["status"] == "offered"] or None

                offer = (await wait_for(offered, timeout=30, what=f"the offer at {at:%H:%M}"))[0]
                assert offer["staff_code"], offer  # who has it, and the name they log in with

                handler = await login(identity, offer["staff_code"])
                assert handler["user"]["staff_id"] == offer["staff_id"]
                inbox = await dispatch.get("/v1/inbox", headers=handler["headers"])
                assert inbox.status_code == 200, (at, handler["user"], inbox.text)
                mine = [a for a in inbox.json() if a["id"] == offer["id"]]
                assert mine and mine[0]["staff_code"] == offer["staff_code"]
                r = await dispatch.post(f"/v1/assignments/{offer['id']}/accept", headers=handler["headers"])
                assert r.status_code == 200, (at, handler["user"], r.text)
                assert r.json()["status"] == "accepted" and r.json()["staff_code"] == offer["staff_code"]
