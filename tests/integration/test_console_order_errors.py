"""The console files what the operator typed, or says exactly what to fix — never a thinner
order in its place. Seen: an answer longer than hotline.answer_summary allows got a 422, the
console's compatibility retry dropped the whole `hotline` block and filed the call again, so
an order answered on the call was dispatched, its answer, call id and 当场办结 lost."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from libs.common.testing.auth import token
from libs.common.testing.infra import services
from services.console.service import BackendError, Backends


async def test_a_too_long_answer_is_refused_with_its_field_and_nothing_is_filed(infra):
    async with services(infra, "intake") as svc:
        b = Backends({"intake": svc["intake"].url})
        op = token("operator", "1404", "op-1")
        body = {
            "channel": "hotline",
            "requester": {"name": "刘桂兰", "phone": "13700000123"},
            "region_code": "140403",
            "service_type": "consultation",
            "description": "想问一下邻居占用宅基地怎么办。",
            "hotline": {
                "call_id": "call-7788",
                "operator_id": "op-1",
                "call_started_at": datetime.now(UTC).isoformat(),
                "answered_on_call": True,
                "answer_summary": "答" * 2001,
            },
        }
        try:
            with pytest.raises(BackendError) as refused:
                await b.create_order(op, body, "console-call-7788")
            assert refused.value.status == 422
            assert [f for f, _ in refused.value.field_errors("zh")] == ["hotline.answer_summary"]
            page = await b.json("intake", "GET", "/v1/work-orders", op, params={"q": "宅基地"})
            assert page["items"] == []  # no order without its hotline block either
        finally:
            await b.aclose()
