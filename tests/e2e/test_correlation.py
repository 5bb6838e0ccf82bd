"""The correlation id given to intake follows the order into dispatch's events, so one
order's journey can be joined across every service's logs and events."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from libs.common.testing.auth import auth
from libs.common.testing.infra import consumers_ready, services, wait_for

pytestmark = pytest.mark.e2e


async def test_correlation_id_travels_from_http_to_downstream_events(infra):
    async with services(infra, "intake", "dispatch") as svc:
        await consumers_ready(*svc.values())
        async with svc["intake"].client(headers=auth("operator")) as intake:
            r = await intake.post(
                "/v1/work-orders",
                headers={"X-Correlation-ID": "corr-e2e-42"},
                json={
                    "channel": "counter",
                    "requester": {"name": "刘芳", "phone": "0355-2021234"},
                    "region_code": "140426",
                    "service_type": "consultation",
                    "description": "邻里宅基地纠纷咨询",
                },
            )
        assert r.status_code == 201 and r.headers["x-correlation-id"] == "corr-e2e-42"

        from services.dispatch.models import outbox

        async def offered_event():
            async with svc["dispatch"].rt.sessionmaker() as s:
                rows = (await s.scalars(select(outbox.c.event))).all()
            return [
                e
                for e in rows
                if e["type"].endswith("dispatch.offered.v1") and e["data"]["work_order_id"] == r.json()["id"]
            ]

        events = await wait_for(offered_event, what="dispatch's offered event")
        assert events[0]["extensions"]["correlationid"] == "corr-e2e-42"
