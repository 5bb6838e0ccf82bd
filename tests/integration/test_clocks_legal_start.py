"""Clocks start at the legal start (issue #15 item 5), on the real PostgreSQL and broker with an
injected clock: the aid application, the 通知辩护 notice and the mediation registration count from
when they were RECEIVED (法律援助法 Art 43, 36; 民法典 Art 201–203), entered by staff with a reason,
audited, never in the future; a correction later recomputes the open clocks."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from libs.common.audit import AUDIT
from libs.common.calendar import WorkCalendar
from libs.common.clock import CHINA_TZ, FrozenClock
from libs.common.events import dispatch
from libs.common.testing.auth import auth
from libs.common.testing.infra import services
from services.aid import service as aid_service
from tests.integration.test_aid_case_flow import application

COUNTY = "140430"
MONDAY_10 = datetime(2026, 3, 9, 10, 0, tzinfo=CHINA_TZ)  # Monday 9 March 2026, 10:00 Beijing
FRIDAY_16 = datetime(2026, 3, 6, 16, 30, tzinfo=CHINA_TZ)  # the Friday before
CLOCK = FrozenClock(MONDAY_10)
OFFICER_ID = "00000000-0000-4000-8000-000000000001"
OFFICER = auth("aid_officer", region=COUNTY, staff_id=OFFICER_ID)
PAPER = "纸质申请周五下班前由窗口收件，周一上午录入系统"


@pytest.fixture(scope="module")
async def aid(infra):
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AID_SWEEP_SECONDS", "0")  # no background sweep: the frozen clock is ours
        env.setenv("AID_CONSUMER_GROUP", f"lawline-aid-test-{uuid.uuid4().hex[:8]}")
        async with services(infra, "aid", clock=CLOCK) as running:
            yield running["aid"]


@pytest.fixture(scope="module")
async def mediation(infra):
    async with services(infra, "mediation", clock=CLOCK) as running:
        yield running["mediation"]


@pytest.fixture(autouse=True)
def _monday():
    CLOCK.at = MONDAY_10


def clock(case: dict, name: str) -> dict:
    return next(c for c in case["clocks"] if c["name"] == name and not c["met_at"] and not c["cancelled_at"])


async def audit_entries(svc, subject: str) -> list[dict]:  # type: ignore[no-untyped-def]
    async with svc.rt.sessionmaker() as s:
        rows = (
            await s.execute(select(AUDIT).where(AUDIT.c.subject == subject).order_by(AUDIT.c.id))
        ).mappings()
        return [dict(r) for r in rows]


def field_error(r) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    (err,) = r.json()["errors"]
    return err


async def test_friday_receipt_entered_monday_counts_from_friday(aid):
    async with aid.client(headers=OFFICER) as api:
        # Backdated without a reason: refused, naming the reason field, in both languages.
        r = await api.post("/v1/applications", json=application(received_at=FRIDAY_16.isoformat()))
        err = field_error(r)
        assert err["field"] == "receipt_reason" and "原因" in err["message"] and "reason" in err["message_en"]

        r = await api.post(
            "/v1/applications", json=application(received_at="2026-03-06T16:30:00", receipt_reason=PAPER)
        )  # a counter's local time, no offset
        assert r.status_code == 201, r.text
        case = r.json()
    assert case["received_on"] == "2026-03-06" and datetime.fromisoformat(case["received_at"]) == FRIDAY_16
    assert case["receipt"]["reason"] == PAPER and case["receipt"]["backdated"] is True
    assert case["receipt"]["entered_by"] == OFFICER_ID
    decision = clock(case, "decision")
    # Art 43: 7 days from Friday's receipt (start day excluded) = Fri 13 March — not Mon 16 March.
    assert decision["started_on"] == "2026-03-06" and decision["due"] == "2026-03-13"
    assert decision["counts_from"] == "receipt" and decision["warnings"] == []
    (entry,) = [e for e in await audit_entries(aid, case["id"]) if e["action"] == "aid.receipt_entered"]
    assert entry["detail"]["reason"] == PAPER and entry["actor"] == OFFICER_ID

    # Entered today without a time: received now, nothing to explain.
    async with aid.client(headers=OFFICER) as api:
        r = await api.post("/v1/applications", json=application())
        assert r.status_code == 201 and clock(r.json(), "decision")["due"] == "2026-03-16"


async def test_a_receipt_in_the_future_is_refused(aid, mediation):
    tomorrow = (MONDAY_10 + timedelta(days=1)).isoformat()
    async with aid.client(headers=OFFICER) as api:
        err = field_error(await api.post("/v1/applications", json=application(received_at=tomorrow)))
        assert err["field"] == "received_at" and err["code"] == "in_future"
        assert "不能晚于当前时间" in err["message"] and "future" in err["message_en"]
        err = field_error(await api.post("/v1/notifications", json=notice(notified_at=tomorrow)))
        assert err["field"] == "notified_at" and "通知时间" in err["message"]
    async with mediation.client(headers=auth("mediator", region="1404")) as api:
        body = await registration(api, received_at=tomorrow, receipt_reason=PAPER)
        err = field_error(await api.post("/v1/cases", json=body))
        assert err["field"] == "received_at" and "不能晚于当前时间" in err["message"]


def notice(**over) -> dict:  # type: ignore[no-untyped-def]
    body = {
        "body_kind": "court",
        "body_name": "沁县人民法院",
        "document_number": "(2026)晋0430刑初88号",
        "notified_at": "2026-09-30T10:00:00+08:00",
        "region_code": COUNTY,
        "ground": "minor",
        "defendant": {"name": "李某", "birth_date": "2010-05-01"},
        "cause": "盗窃",
    }
    body.update(over)
    return body


async def test_the_notice_date_drives_the_notification_defence_deadline(aid):
    CLOCK.at = datetime(2026, 10, 8, 9, 0, tzinfo=CHINA_TZ)  # first working day after National Day
    court = auth("external_system", region=COUNTY)
    async with aid.client(headers=court) as body, aid.client(headers=OFFICER) as api:
        # The court's system stamps the notice: its time is the evidence, no reason asked.
        r = await body.post("/v1/notifications", json=notice())
        assert r.status_code == 201, r.text
        case = r.json()
        assignment = clock(case, "assignment")
        # Art 36: 3 days from the notice of 30 Sept = 3 Oct, a holiday → the next working day 8 Oct
        # (民法典 Art 203) — not 12 Oct as counted from today's entry.
        assert assignment["started_on"] == "2026-09-30" and assignment["due"] == "2026-10-08"
        assert case["received_on"] == "2026-09-30" and case["notification"]["received_at"].startswith(
            "2026-09-30"
        )

        # Staff typing in a paper notice dated before today say why; it arrived later than dated.
        err = field_error(await api.post("/v1/notifications", json=notice()))
        assert err["field"] == "receipt_reason"
        r = await api.post(
            "/v1/notifications",
            json=notice(
                received_at="2026-10-08T08:40:00+08:00", receipt_reason="节前寄出的纸质通知书，节后到达"
            ),
        )
        assert r.status_code == 201, r.text
        assert clock(r.json(), "assignment")["due"] == "2026-10-12"  # 8 Oct + 3 = Sun 11 → Mon 12
        err = field_error(
            await api.post(
                "/v1/notifications",
                json=notice(received_at="2026-09-29T10:00:00+08:00", receipt_reason=PAPER),
            )
        )
        assert err["field"] == "received_at"  # received before it was issued: a typing error


async def test_a_correction_needs_a_reason_is_audited_and_recomputes_the_open_clocks(aid):
    async with aid.client(headers=OFFICER) as api:
        case = (await api.post("/v1/applications", json=application())).json()
        assert clock(case, "decision")["due"] == "2026-03-16"
        url = f"/v1/cases/{case['id']}/receipt"
        err = field_error(await api.post(url, json={"received_at": FRIDAY_16.isoformat(), "reason": "错"}))
        assert err["field"] == "reason"
        future = {"received_at": (MONDAY_10 + timedelta(hours=3)).isoformat(), "reason": PAPER}
        assert field_error(await api.post(url, json=future))["field"] == "received_at"

        r = await api.post(
            url, json={"received_at": FRIDAY_16.isoformat(), "reason": "收件登记簿显示周五已收件"}
        )
        assert r.status_code == 200, r.text
        fixed = r.json()
        assert fixed["received_on"] == "2026-03-06" and clock(fixed, "decision")["due"] == "2026-03-13"
        (corr,) = fixed["receipt"]["corrections"]
        assert corr["reason"] == "收件登记簿显示周五已收件" and corr["to"].startswith("2026-03-06T16:30")
        log = (await api.get(f"/v1/cases/{case['id']}/log")).json()
        assert log[-1]["action"] == "correct_receipt"
        assert log[-1]["details"]["clocks"] == [
            {"clock": "decision", "from": "2026-03-16", "to": "2026-03-13"}
        ]
    (entry,) = [e for e in await audit_entries(aid, case["id"]) if e["action"] == "aid.receipt_corrected"]
    assert entry["detail"]["reason"] == "收件登记簿显示周五已收件" and entry["actor"] == OFFICER_ID


async def registration(api, **over) -> dict:  # type: ignore[no-untyped-def]
    rows = (await api.get("/v1/committees", params={"region_code": "140403001"})).json()
    body = {
        "committee_id": next(c for c in rows if c["region_code"] == "140403001")["id"],
        "dispute_type": "neighbour",
        "summary": "楼上漏水损坏楼下天花板，协商未果。",
        "claims": "请求赔偿维修费三千元",
        "parties": [
            {"side": "applicant", "name": "孙立新", "phone": "13800003333"},
            {"side": "respondent", "name": "周文", "phone": "13900004444"},
        ],
    }
    return body | over


async def test_mediation_registration_counts_from_the_receipt_and_can_be_corrected(mediation):
    mediator = auth("mediator", region="1404", staff_id="00000000-0000-4000-8000-0000000000aa")
    async with mediation.client(headers=mediator) as api:
        err = field_error(
            await api.post("/v1/cases", json=await registration(api, received_at=FRIDAY_16.isoformat()))
        )
        assert err["field"] == "receipt_reason"
        body = await registration(api, received_at=FRIDAY_16.isoformat(), receipt_reason=PAPER)
        r = await api.post("/v1/cases", json=body)
        assert r.status_code == 201, r.text
        case = r.json()
        # One month from Friday 6 March (民法典 Art 202): Mon 6 April is 清明 (2026) → Tue 7 April.
        assert case["due_date"] == "2026-04-07" and case["receipt"]["reason"] == PAPER
        assert datetime.fromisoformat(case["received_at"]) == FRIDAY_16

        r = await api.post(
            f"/v1/cases/{case['id']}/receipt",
            json={"received_at": "2026-03-09T09:00:00+08:00", "reason": "周五收到的是咨询，周一才正式申请"},
        )
        assert r.status_code == 200, r.text
        fixed = r.json()
        assert fixed["due_date"] == "2026-04-09" and len(fixed["receipt"]["corrections"]) == 1
    entries = [e["action"] for e in await audit_entries(mediation, case["id"])]
    assert "mediation.receipt_entered" in entries and "mediation.receipt_corrected" in entries


async def test_a_paper_form_for_a_dispatched_order_moves_the_clock_to_its_receipt(aid):
    """A case opened when the officer took the order (Monday); the signed form arrived by post on
    Friday: entering it with its receipt counts Art 43's seven days from Friday."""
    assigned = dispatch.AssignedV1(
        assignment_id=str(uuid.uuid4()),
        work_order_id=str(uuid.uuid4()),
        county_code=COUNTY,
        region_code=f"{COUNTY}003",
        service_type="legal_aid",
        staff_id=OFFICER_ID,
        staff_name="李干事",
        service_point_id=str(uuid.uuid4()),
        service_point_name="沁县公共法律服务中心",
        requester_name="王秀英",
        description="被拖欠工资，申请法律援助",
        accepted_at=MONDAY_10,
    )
    async with aid.rt.sessionmaker() as s, s.begin():
        case = await aid_service.open_case_from_assignment(
            s, assigned=assigned, now=MONDAY_10, cal=WorkCalendar()
        )
        case_id = str(case.id)
    body = application()
    body.pop("region_code")
    async with aid.client(headers=OFFICER) as api:
        opened = (await api.get(f"/v1/cases/{case_id}")).json()
        assert (
            clock(opened, "decision")["due"] == "2026-03-16" and opened["receipt"]["source"] == "work_order"
        )
        r = await api.post(
            f"/v1/cases/{case_id}/application", json=body | {"received_at": FRIDAY_16.isoformat()}
        )
        assert field_error(r)["field"] == "receipt_reason"  # it corrects the receipt: a reason is required
        r = await api.post(
            f"/v1/cases/{case_id}/application",
            json=body | {"received_at": FRIDAY_16.isoformat(), "receipt_reason": "申请表周五邮寄送达"},
        )
        assert r.status_code == 200, r.text
        case = r.json()
    assert case["received_on"] == "2026-03-06" and clock(case, "decision")["due"] == "2026-03-13"
    assert case["status"] == "under_review"
