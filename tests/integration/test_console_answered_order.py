"""An order answered on the call, as its page shows it: closed, nothing to dispatch. Seen: a red
"尚无派单决定" error (dispatch rightly has no decision for it) and a 办结 form on a closed order."""

from __future__ import annotations

from datetime import UTC, datetime

from libs.common.testing.auth import auth
from libs.common.testing.infra import consumers_ready, services
from tests.integration.console_helpers import console_for
from tests.unit.test_console_app import dev_login


async def test_an_answered_order_says_so_and_offers_no_close(infra):
    async with services(infra, "intake", "dispatch") as svc:
        await consumers_ready(*svc.values())
        async with svc["intake"].client(headers=auth("operator", "1404", "op-1")) as c:
            r = await c.post(
                "/v1/work-orders",
                json={
                    "channel": "hotline",
                    "requester": {"name": "李秀珍", "phone": "13734560042"},
                    "region_code": "140403",
                    "service_type": "consultation",
                    "description": "想问问离婚时孩子抚养权一般怎么判。",
                    "hotline": {
                        "call_id": "call-42",
                        "operator_id": "op-1",
                        "call_started_at": datetime.now(UTC).isoformat(),
                        "answered_on_call": True,
                        "answer_summary": "已告知民法典第一千零八十四条的规定。",
                    },
                },
            )
            assert r.status_code == 201, r.text
            order_id = r.json()["id"]
        async with console_for(intake=svc["intake"].url, dispatch=svc["dispatch"].url) as web:
            await dev_login(web, "operator", region="1404")
            page = await web.get(f"/orders/{order_id}")
    assert page.status_code == 200
    assert "当场解答办结，无需派单" in page.text and "尚无派单决定" not in page.text
    assert 'data-testid="close-form"' not in page.text  # closed already: no 办结
