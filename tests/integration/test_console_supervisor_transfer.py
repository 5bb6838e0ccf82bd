"""转办 from the supervisor's screen picks the person by name or staff code (issue #16: it wanted
a UUID typed by hand, and a name gave '编号格式不正确（应为 UUID）'), against the real dispatch."""

from __future__ import annotations

import re

from libs.common.testing.auth import auth
from libs.common.testing.infra import services
from tests.integration.console_helpers import console_for
from tests.unit.test_console_app import csrf_of, dev_login


async def test_transfer_picks_staff_by_name_and_says_when_nobody_was_picked(infra):
    async with services(infra, "dispatch") as svc:
        async with svc["dispatch"].client() as d:
            staff = (await d.get("/v1/staff", params={"limit": 1}, headers=auth("supervisor"))).json()[0]
        async with console_for(dispatch=svc["dispatch"].url) as web:
            r = await dev_login(web, "supervisor")
            assert r.status_code in (302, 303), r.text
            page = await web.get("/supervisor")
            found = await web.get("/supervisor/staff-options", params={"staff_q": staff["name"]})
            assert found.status_code == 200
            assert re.search(r'name="to_staff_id" value="' + staff["id"], found.text), found.text
            assert staff["code"] in found.text and "/" in found.text  # code and load shown
            r = await web.post(
                "/supervisor/transfer/00000000-0000-4000-8000-000000000001",
                data={"csrf_token": csrf_of(page.text), "reason": "督办"},
            )
            assert r.status_code == 200 and "请先输入姓名或人员编号" in r.text
