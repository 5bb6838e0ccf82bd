"""A repeat caller is noticed whatever type the operator has picked. Seen: the type select always
has a value, so a caller whose open order is of another type got no warning at all."""

from __future__ import annotations

from libs.common.testing.auth import auth
from libs.common.testing.infra import services
from tests.integration.console_helpers import console_for
from tests.unit.test_console_app import dev_login

PHONE = "13734560077"


async def test_an_open_order_of_another_type_is_pointed_out(infra):
    async with services(infra, "intake") as svc:
        async with svc["intake"].client(headers=auth("operator", "1404", "op-1")) as c:
            r = await c.post(
                "/v1/work-orders",
                json={
                    "channel": "web",
                    "requester": {"name": "周建华", "phone": PHONE},
                    "region_code": "140403",
                    "service_type": "legal_aid",
                    "description": "工地老板拖欠工资半年，想申请法律援助。",
                },
            )
            assert r.status_code == 201, r.text
        async with console_for(intake=svc["intake"].url) as web:
            await dev_login(web, "operator", region="1404")
            other = await web.get("/operator/lookup", params={"phone": PHONE, "service_type": "consultation"})
            same = await web.get("/operator/lookup", params={"phone": PHONE, "service_type": "legal_aid"})
    assert 'data-testid="duplicate-other"' in other.text and "另有其他类型的在办工单" in other.text
    assert 'data-testid="duplicate"' in same.text and 'data-testid="duplicate-other"' not in same.text
    assert r.json()["number"] in other.text  # the open order itself is listed, with its link
