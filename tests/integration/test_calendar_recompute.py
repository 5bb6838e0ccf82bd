"""A holiday year entered later recomputes the open deadlines that counted through it (issue #15
item 5): the admin enters 2027 in dispatch (chinese-calendar knows only up to 2026, so 2027 was
counted from weekends and fixed holidays, with a warning); dispatch recomputes its own open
orders in that transaction, and aid and mediation do theirs when dispatch.calendar_year_updated
reaches them over the broker. The due dates move and the warning goes — and changing the year
again moves them back. Dispatch, aid and mediation on a private broker; injected clock."""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime

import pytest
from sqlalchemy import select

from libs.common.clock import CHINA_TZ, FrozenClock
from libs.common.embedded import EmbeddedBroker, free_port
from libs.common.testing.auth import auth
from libs.common.testing.infra import consumers_ready, serve, wait_for
from services.aid.main import create_app as aid_app
from services.dispatch.main import create_app as dispatch_app
from services.dispatch.models import OrderSnapshot
from services.mediation.main import create_app as mediation_app
from services.mediation.settings import MediationSettings
from tests.integration.test_aid_case_flow import application
from tests.integration.test_dispatch_offers import new_order

MONDAY = datetime(2026, 12, 28, 10, 0, tzinfo=CHINA_TZ)
# Test data for 2027 (not the State Council's real schedule): New Year's Day and a 调休 swap that
# makes Monday 4 January a holiday and Saturday 9 January a working day.
YEAR_2027 = {"holidays": ["2027-01-01", "2027-01-04"], "workdays": ["2027-01-09"]}
WARNING = "2027 年的节假日安排尚未录入"


@contextlib.asynccontextmanager
async def stack(infra, clock):  # type: ignore[no-untyped-def]
    broker = EmbeddedBroker(free_port()).start()
    urls = [await infra.fresh_database(s) for s in ("dispatch", "aid", "mediation")]
    apps = []
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("AID_SWEEP_SECONDS", "0")
            env.setenv("AID_CONSUMER_GROUP", f"lawline-aid-test-{uuid.uuid4().hex[:8]}")
            quiet = MediationSettings(sweep_seconds=0, webhook_every_seconds=0)
            for make, url, extra in (
                (dispatch_app, urls[0], {}),
                (aid_app, urls[1], {}),
                (mediation_app, urls[2], {"settings": quiet}),
            ):
                app = make(db_url=url, bootstrap=broker.bootstrap, clock=clock, **extra)
                apps.append(await serve(make.__module__, app))
            await consumers_ready(*apps)
            yield apps
    finally:
        for app in reversed(apps):
            await app.stop()
        broker.stop()


async def test_entering_a_holiday_year_moves_open_deadlines_and_clears_the_warning(infra):
    clock = FrozenClock(MONDAY)
    async with stack(infra, clock) as (dispatch, aid, mediation):
        # Dispatch: a hotline order, reply within 5 working days (counted through New Year 2027).
        order_id = await new_order(dispatch, clock, service_type="consultation", description="咨询合同问题")
        async with dispatch.rt.sessionmaker() as s:
            order = await s.get(OrderSnapshot, uuid.UUID(order_id))
        assert order.reply_due == datetime(2027, 1, 5, 10, 0, tzinfo=CHINA_TZ)  # Dec 29–31, Jan 4, 5
        assert any(WARNING in w for w in order.clock_warnings)

        # Aid: decide within 7 days (法律援助法 Art 43): 28 Dec + 7 = Mon 4 Jan, 2027 unknown.
        async with aid.client(headers=auth("aid_officer", region="140430")) as api:
            case = (await api.post("/v1/applications", json=application())).json()
        (decision,) = [c for c in case["clocks"] if c["name"] == "decision"]
        assert decision["due"] == "2027-01-04" and any(WARNING in w for w in decision["warnings"])

        # Mediation: a court-entrusted case under summary procedure, 7 days → Mon 4 Jan.
        async with mediation.client(headers=auth("mediator", region="1404")) as api:
            rows = (await api.get("/v1/committees", params={"region_code": "140403001"})).json()
            body = {
                "committee_id": next(c for c in rows if c["region_code"] == "140403001")["id"],
                "source": "court",
                "court_procedure": "post_filing_summary",
                "referral_body": "潞州区人民法院",
                "dispute_type": "debt",
                "summary": "民间借贷纠纷，法院立案后委托调解。",
                "claims": "请求归还借款五万元",
                "parties": [{"side": "applicant", "name": "吴海"}, {"side": "respondent", "name": "郑涛"}],
            }
            r = await api.post("/v1/cases", json=body)
            assert r.status_code == 201, r.text
            med = r.json()
        assert med["due_date"] == "2027-01-04" and any(WARNING in w for w in med["deadline_warnings"])

        # The admin enters 2027.
        async with dispatch.client(headers=auth("admin", region="")) as admin:
            r = await admin.put("/v1/calendar/2027", json=YEAR_2027)
            assert r.status_code == 200, r.text

        async with dispatch.rt.sessionmaker() as s:
            order = await s.get(OrderSnapshot, uuid.UUID(order_id))
        # Jan 4 is now a holiday: Dec 29, 30, 31, Jan 5, 6 → Wed 6 Jan; no warning left.
        assert order.reply_due == datetime(2027, 1, 6, 10, 0, tzinfo=CHINA_TZ) and order.clock_warnings == []

        async def aid_due() -> tuple[str, list] | None:
            async with aid.client(headers=auth("aid_officer", region="140430")) as api:
                c = (await api.get(f"/v1/cases/{case['id']}")).json()
            (k,) = [x for x in c["clocks"] if x["name"] == "decision"]
            return (k["due"], k["warnings"]) if k["due"] != "2027-01-04" else None

        async def mediation_due() -> tuple[str, list] | None:
            async with mediation.client(headers=auth("mediator", region="1404")) as api:
                c = (await api.get(f"/v1/cases/{med['id']}")).json()
            return (c["due_date"], c["deadline_warnings"]) if c["due_date"] != "2027-01-04" else None

        # 民法典 Art 203: a due date on a holiday rolls to the next working day, Tue 5 Jan.
        assert await wait_for(aid_due, timeout=20, what="aid to recompute") == ("2027-01-05", [])
        assert await wait_for(mediation_due, timeout=20, what="mediation to recompute") == ("2027-01-05", [])
        async with aid.client(headers=auth("aid_officer", region="140430")) as api:
            log = (await api.get(f"/v1/cases/{case['id']}/log")).json()
        assert log[-1]["action"] == "recompute_clocks" and log[-1]["details"]["year"] == 2027

        # The schedule is changed again (the swap withdrawn): the deadlines follow back (dispatch
        # in the admin's transaction; aid and mediation run the same recompute on the new event).
        async with dispatch.client(headers=auth("admin", region="")) as admin:
            r = await admin.put("/v1/calendar/2027", json={"holidays": ["2027-01-01"], "workdays": []})
            assert r.status_code == 200, r.text
        async with dispatch.rt.sessionmaker() as s:
            reply_due = await s.scalar(
                select(OrderSnapshot.reply_due).where(OrderSnapshot.work_order_id == uuid.UUID(order_id))
            )
        assert reply_due == datetime(2027, 1, 5, 10, 0, tzinfo=CHINA_TZ)
