"""A counter clerk's intake is a walk-in at the clerk's window (窗口): channel `counter` with the
service point, so it counts as 窗口 in every figure. Seen: the clerk's orders were filed as
hotline calls with the clerk as `hotline.operator_id`."""

from __future__ import annotations

from sqlalchemy import text

from libs.common.testing.infra import consumers_ready, services
from services.identity import domain as identity
from services.identity.domain import DEMO_PASSWORD
from tests.integration.console_helpers import console_for
from tests.unit.test_console_app import csrf_of

CLERK = "counter_140403"


async def test_a_clerks_walk_in_is_filed_at_the_clerks_window(infra):
    clerk = next(a for a in identity.demo_accounts() if a.username == CLERK)
    async with services(infra, "identity", "intake") as svc:
        await consumers_ready(*svc.values())
        async with svc["identity"].client() as c:
            login = (
                await c.post("/v1/auth/login", json={"username": CLERK, "password": DEMO_PASSWORD})
            ).json()
        point = login["user"]["service_point_id"]
        assert point and login["user"]["service_point_name"]  # identity says where the clerk works
        async with console_for(identity=svc["identity"].url, intake=svc["intake"].url) as web:
            page = await web.get("/login")
            r = await web.post(
                "/login",
                data={"csrf_token": csrf_of(page.text), "username": CLERK, "password": DEMO_PASSWORD},
            )
            assert r.status_code == 303, r.text
            screen = await web.get("/operator")
            assert screen.status_code == 200 and 'name="answered_on_call"' not in screen.text  # not a call
            r = await web.post(
                "/operator/orders",
                data={
                    "csrf_token": csrf_of(screen.text),
                    "name": "赵兰英",
                    "phone": "13934560001",
                    "county": "140403",
                    "service_type": "legal_aid",
                    "description": "老板拖欠三个月工资，来窗口申请法律援助。",
                    "call_id": "ignored-for-a-walk-in",
                },
            )
            assert r.status_code == 200 and "LW" in r.text, r.text
        async with svc["intake"].rt.sessionmaker() as session:
            row = (
                await session.execute(
                    text(
                        "SELECT channel, channel_details FROM work_orders WHERE requester_phone = '13934560001'"
                    )
                )
            ).one()
    assert row.channel == "counter"
    assert row.channel_details["counter"] == {"service_point_id": point, "staff_id": clerk.staff_id}
    assert "hotline" not in row.channel_details
