"""The order's timeline follows every step of its legal-aid case: intake → dispatch (offer,
accept) → aid (case opened, application, deadline supervision, decision) → intake timeline, and
the citizen's tracking page shows the public steps only. Real PostgreSQL and broker.

Runs on a broker of its own (see `own_broker`), in 沁源县 (140431), where no other test files orders."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from libs.common.clock import FrozenClock
from libs.common.embedded import EmbeddedBroker, free_port
from libs.common.testing.auth import auth
from libs.common.testing.infra import Infra, consumers_ready, services, wait_for
from services.intake.models import TimelineEntry

pytestmark = pytest.mark.e2e

ORDER = {
    "channel": "hotline",
    "requester": {"name": "赵桂兰", "phone": "13834560431"},
    "region_code": "140431001",
    "service_type": "legal_aid",
    "description": "工地老板拖欠我两个月工资九千元，想申请法律援助。",
}
APPLICATION = {
    "applicant": {"name": "赵桂兰", "phone": "13834560431"},
    "matter": {"category": "labour_pay", "cause": "追索劳动报酬", "opposing_parties": ["某建筑公司"]},
    "requested_form": "arbitration_agency",
    "exemption": "migrant_worker",
    "attachments": [{"kind": "identity"}, {"kind": "matter_materials"}, {"kind": "migrant_work_proof"}],
}


@pytest.fixture
def own_broker(infra):  # type: ignore[no-untyped-def]
    """A broker of this test's own: dispatch announces 1,086 staff availabilities when it starts,
    and on the shared broker later tests' consumers would have to read through them all."""
    port = free_port()
    broker = EmbeddedBroker(port, log_path=infra.tmp / f"glue-{port}.log").start()
    try:
        yield Infra(infra.server_url, broker.bootstrap)
    finally:
        broker.stop()


@pytest.fixture
def no_background_sweep(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AID_SWEEP_SECONDS", "0")  # the test sweeps aid's clocks itself


async def test_aid_steps_reach_the_order_timeline_and_public_track(own_broker, no_background_sweep):
    clock = FrozenClock(datetime(2026, 11, 24, 1, 30, tzinfo=UTC))  # Tuesday 09:30 in China
    async with services(own_broker, "intake", "dispatch", "aid", clock=clock) as svc:
        await consumers_ready(*svc.values())
        async with (
            svc["intake"].client(headers=auth("operator", region="140431")) as intake,
            svc["dispatch"].client(headers=auth("supervisor", region="140431")) as dispatch,
        ):
            order = (await intake.post("/v1/work-orders", json=ORDER)).json()

            async def offered():
                rows = (await dispatch.get("/v1/assignments", params={"work_order_id": order["id"]})).json()
                return rows if rows and rows[0]["status"] == "offered" else None

            offer = (await wait_for(offered, timeout=20, what="the offer"))[0]
            handler = auth("aid_officer", region="140431", staff_id=offer["staff_id"])
            r = await dispatch.post(f"/v1/assignments/{offer['id']}/accept", headers=handler)
            assert r.status_code == 200, r.text

        async with svc["aid"].client(headers=handler) as aid:

            async def case():
                rows = (await aid.get("/v1/cases", params={"work_order_id": order["id"]})).json()
                return rows[0] if rows else None

            opened = await wait_for(case, timeout=20, what="the aid case")
            r = await aid.post(f"/v1/cases/{opened['id']}/application", json=APPLICATION)
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "under_review"

            # Nobody decides within 7 days (法律援助法 Art 43): the sweep raises supervision (督办).
            clock.advance(days=10)
            async with svc["aid"].client(headers=auth("supervisor", region="140431")) as bureau:
                sweep = (await bureau.post("/v1/clock-sweeps")).json()
            assert {"case_id": opened["id"], "clock": "decision"} in sweep["breached"]
            r = await aid.post(f"/v1/cases/{opened['id']}/decision", json={"decision": "grant"})
            assert r.status_code == 200, r.text

        async with svc["intake"].client(headers=auth("operator", region="140431")) as intake:

            async def folded():
                body = (await intake.get(f"/v1/work-orders/{order['id']}")).json()
                kinds = {e["kind"] for e in body["timeline"]}
                return body if {"aid_granted", "aid_deadline_breached"} <= kinds else None

            body = await wait_for(folded, timeout=20, what="aid steps on the order's timeline")
        staff_kinds = [e["kind"] for e in body["timeline"]]
        assert staff_kinds[0] == "received", staff_kinds
        assert {"offered", "assigned", "aid_case_opened", "aid_application_accepted", "aid_granted"} <= set(
            staff_kinds
        )
        assert body["status"] == "in_progress"
        texts = {e["kind"]: e["text"] for e in body["timeline"]}
        assert texts["aid_granted"] == "法律援助申请已批准，将为您指派律师"
        assert texts["aid_deadline_breached"].startswith("督办")

        async with svc["intake"].client() as citizen:
            r = await citizen.get(f"/v1/track/{order['number']}", params={"phone_suffix": "0431"})
        assert r.status_code == 200
        public = [e["kind"] for e in r.json()["timeline"]]
        async with svc["intake"].rt.sessionmaker() as s:
            rows = (
                await s.execute(
                    select(TimelineEntry.kind, TimelineEntry.public)
                    .where(TimelineEntry.work_order_id == order["id"])
                    .order_by(TimelineEntry.at, TimelineEntry.id)
                )
            ).all()
        assert public == [k for k, is_public in rows if is_public]
        assert {"offered", "assigned", "aid_application_accepted", "aid_granted"} <= set(public)
        assert "aid_deadline_breached" not in public  # supervision is for staff only
        assert "赵桂兰" not in r.text and "13834560431" not in r.text
