"""A legal-aid case end to end on the real PostgreSQL and broker: window application → review →
grant → assignment → lawyer → closure → archive; refusal → objection; termination; the 409 guard."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from libs.common.clock import FrozenClock
from libs.common.crypto import get_cipher
from libs.common.events import aid as ev
from libs.common.testing.auth import auth
from libs.common.testing.infra import services
from services.aid.models import Case, Lawyer, outbox

COUNTY = "140430"  # 沁县: 点援制 allowed in rules.yaml
ID_NUMBER = "11010519491231002X"


def application(**over):  # type: ignore[no-untyped-def]
    body = {
        "region_code": "140430003",
        "applicant": {"name": "王秀英", "id_number": ID_NUMBER, "phone": "13834567890"},
        "matter": {
            "category": "labour_pay",
            "cause": "追索劳动报酬",
            "stage": "劳动仲裁",
            "opposing_parties": ["沁县某建筑公司"],
            "description": "拖欠三个月工资一万八千元",
        },
        "requested_form": "arbitration_agency",
        "means": {"household_size": 3, "monthly_income": "3000", "verification": "honesty_commitment"},
        "attachments": [
            {"kind": k} for k in ("identity", "matter_materials", "hardship_statement", "honesty_commitment")
        ],
    }
    body.update(over)
    return body


@pytest.fixture
def no_background_sweep(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AID_SWEEP_SECONDS", "0")  # tests sweep explicitly with the frozen clock
    # A consumer group of its own per test: a service stopped while its consumer is still joining
    # can leave a member behind in the shared broker, which must not hold "lawline-aid" partitions.
    monkeypatch.setenv("AID_CONSUMER_GROUP", f"lawline-aid-test-{uuid.uuid4().hex[:8]}")


async def events_of(rt, case_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    async with rt.sessionmaker() as s:
        rows = (
            await s.execute(select(outbox.c.event).where(outbox.c.key == case_id).order_by(outbox.c.id))
        ).all()
    return [r[0] for r in rows]


async def test_full_case_from_window_to_archive(infra, no_background_sweep):
    clock = FrozenClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # Mon 10:00 in China
    async with services(infra, "aid", clock=clock) as svc:
        officer = auth("aid_officer", region=COUNTY, staff_id="00000000-0000-4000-8000-000000000001")
        async with svc["aid"].client(headers=officer) as aid:
            r = await aid.post("/v1/applications", json=application())
            assert r.status_code == 201, r.text
            case = r.json()
            assert case["status"] == "under_review" and case["eligibility"]["eligible"]
            assert case["id_number_masked"] == "1101**********002X" and ID_NUMBER not in r.text
            assert case["phone_masked"] == "138****7890"
            decision_clock = next(c for c in case["clocks"] if c["name"] == "decision")
            assert decision_clock["due"] == "2026-03-09"  # 7 days from 03-02, Sun 03-08 → Mon 03-09

            # The 409 guard names what is allowed now.
            r = await aid.post(f"/v1/cases/{case['id']}/archive")
            assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["allowed_actions"] == [
                "correct_receipt",
                "grant",
                "provide_first",
                "refuse",
                "withdraw",
            ]

            r = await aid.post(f"/v1/cases/{case['id']}/decision", json={"decision": "grant"})
            assert r.status_code == 200, r.text
            granted = r.json()
            assert granted["status"] == "granted" and any(
                "第四十一条" in b for b in granted["decision"]["basis"]
            )
            assign_clock = next(c for c in granted["clocks"] if c["name"] == "assignment")
            assert assign_clock["due"] == "2026-03-05"

            r = await aid.post(f"/v1/cases/{case['id']}/assign", json={})
            assert r.status_code == 200, r.text
            assigned = r.json()
            assert assigned["status"] == "assigned" and assigned["assignment"]["rule"] == "rotation"
            lawyer_id = assigned["lawyer_id"]

        async with svc["aid"].rt.sessionmaker() as s:
            lawyer = await s.get(Lawyer, uuid.UUID(lawyer_id))
            assert lawyer.county_code == COUNTY and lawyer.last_assigned_at is not None
            row = await s.get(Case, uuid.UUID(case["id"]))
            assert row.id_number_enc != ID_NUMBER and get_cipher().decrypt(row.id_number_enc) == ID_NUMBER
            assert row.id_number_index == get_cipher().blind_index(ID_NUMBER)
        async with svc["aid"].client(headers=officer) as aid:
            found = (await aid.get("/v1/cases", params={"id_number": ID_NUMBER.lower()})).json()
            assert [c["id"] for c in found] == [case["id"]]
            assert (await aid.get("/v1/cases", params={"id_number": "110105194912310038"})).json() == []

        me = auth("lawyer", region=COUNTY, staff_id=lawyer_id)
        other = auth("lawyer", region=COUNTY, staff_id="00000000-0000-4000-8000-0000000000ff")
        async with svc["aid"].client(headers=me) as mine, svc["aid"].client(headers=other) as theirs:
            assert (await theirs.get(f"/v1/cases/{case['id']}")).status_code == 404
            assert (await theirs.get("/v1/cases")).json() == []
            assert [c["id"] for c in (await mine.get("/v1/cases")).json()] == [case["id"]]
            r = await theirs.post(f"/v1/cases/{case['id']}/lawyer-accept", json={"firm_consent_by": "张主任"})
            assert r.status_code == 404
            r = await mine.post(f"/v1/cases/{case['id']}/lawyer-accept", json={"firm_consent_by": "张主任"})
            assert r.status_code == 200 and r.json()["status"] == "in_progress"
            assert r.json()["assignment"]["firm_consent"]["by"] == "张主任"
            r = await mine.post(f"/v1/cases/{case['id']}/progress", json={"note": "已提交仲裁申请书"})
            assert r.status_code == 200
            r = await mine.post(
                f"/v1/cases/{case['id']}/close", json={"documents": [], "report": "x", "outcome": "调解"}
            )
            assert r.status_code == 422  # Art 50: documents and a report are required
            fields = {e["field"] for e in r.json()["errors"]}
            assert fields == {"documents", "report"}
            r = await mine.post(
                f"/v1/cases/{case['id']}/close",
                json={
                    "documents": ["仲裁调解书", "送达回证"],
                    "report": "经仲裁调解，用人单位同意分两期支付拖欠工资一万八千元。",
                    "outcome": "仲裁调解结案",
                },
            )
            assert r.status_code == 200 and r.json()["status"] == "closed"

        async with svc["aid"].client(headers=officer) as aid:
            r = await aid.post(f"/v1/cases/{case['id']}/archive")
            assert r.status_code == 409 and set(r.json()["missing"]) == {"subsidy", "return_visit"}
            assert (
                await aid.post(f"/v1/cases/{case['id']}/subsidy", json={"amount": "1500"})
            ).status_code == 200
            r = await aid.post(f"/v1/cases/{case['id']}/return-visit", json={"satisfaction": "satisfied"})
            assert r.status_code == 200
            r = await aid.post(f"/v1/cases/{case['id']}/archive")
            assert (
                r.status_code == 200
                and r.json()["status"] == "archived"
                and r.json()["allowed_actions"] == []
            )
            log = (await aid.get(f"/v1/cases/{case['id']}/log")).json()
            assert [e["action"] for e in log] == [
                "receive",
                "accept_application",
                "grant",
                "assign",
                "lawyer_accept",
                "report_progress",
                "close",
                "record_subsidy",
                "return_visit",
                "archive",
            ]

        events = await events_of(svc["aid"].rt, case["id"])
        types = [e["type"] for e in events]
        assert types[0] == ev.CASE_OPENED and types[-1] == ev.ARCHIVED and len(types) == 10
        assert all("work_order_id" in e["data"] for e in events)


async def test_refusal_objection_and_termination_causes(infra, no_background_sweep):
    clock = FrozenClock(datetime(2026, 9, 28, 2, 0, tzinfo=UTC))  # Mon 2026-09-28, China
    async with services(infra, "aid", clock=clock) as svc:
        officer = auth("aid_officer", region=COUNTY)
        async with (
            svc["aid"].client(headers=officer) as aid,
            svc["aid"].client(headers=auth("supervisor", region=COUNTY)) as bureau,
        ):
            rich = {"household_size": 1, "monthly_income": "9000", "verification": "honesty_commitment"}
            case = (await aid.post("/v1/applications", json=application(means=rich))).json()
            assert case["status"] == "under_review" and case["eligibility"]["means_test"] == "failed"
            r = await aid.post(f"/v1/cases/{case['id']}/decision", json={"decision": "grant"})
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "decision"
            r = await aid.post(f"/v1/cases/{case['id']}/decision", json={"decision": "refuse"})
            refused = r.json()
            assert refused["status"] == "refused" and "第四十九条" in refused["decision"]["letter"]
            assert "高于本省标准" in refused["decision"]["reasons"]  # written reasons default to the rule's

            # Art 49: objection decided within 5 days — 09-28 + 5 = 10-03, National Day → 10-08.
            r = await aid.post(
                f"/v1/cases/{case['id']}/objection", json={"reason": "家庭收入计算有误，另有两名子女"}
            )
            objecting = r.json()
            assert (
                objecting["status"] == "objecting_refusal" and objecting["objection"]["due"] == "2026-10-08"
            )
            r = await aid.post(
                f"/v1/cases/{case['id']}/objection/decision",
                json={"outcome": "reject", "reason": "维持原决定"},
            )
            assert r.status_code == 403  # the agency does not judge objections to its own decision
            r = await bureau.post(
                f"/v1/cases/{case['id']}/objection/decision",
                json={"outcome": "reject", "reason": "维持原决定"},
            )
            assert r.json()["status"] == "refused"
            r = await aid.post(f"/v1/cases/{case['id']}/objection", json={"reason": "再次提出异议"})
            assert r.status_code == 409

            # Termination: an Art 48 cause and a reason, or nothing.
            ok = (await aid.post("/v1/applications", json=application())).json()
            await aid.post(f"/v1/cases/{ok['id']}/decision", json={"decision": "grant"})
            r = await aid.post(
                f"/v1/cases/{ok['id']}/terminate", json={"cause": "lawyer_busy", "reason": "太忙了"}
            )
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cause"
            r = await aid.post(
                f"/v1/cases/{ok['id']}/terminate",
                json={"cause": "own_lawyer", "reason": "受援人已自行委托律师代理仲裁"},
            )
            terminated = r.json()
            assert terminated["status"] == "terminated" and terminated["termination"]["cause"] == "own_lawyer"
            assert "第四十八条" in terminated["termination"]["letter"]
            await aid.post(f"/v1/cases/{ok['id']}/objection", json={"reason": "并未委托其他律师"})
            r = await bureau.post(
                f"/v1/cases/{ok['id']}/objection/decision", json={"outcome": "accept", "reason": "责令改正"}
            )
            resumed = r.json()
            assert resumed["status"] == "granted"
            assert [
                c["due"]
                for c in resumed["clocks"]
                if c["name"] == "assignment" and not c["met_at"] and not c["cancelled_at"]
            ] == ["2026-10-08"]  # 09-28 + 3 = 10-01 → after the holiday

            # The objection clock breaches when nobody decides: 10-09 is the day after 10-08.
            third = (await aid.post("/v1/applications", json=application(means=rich))).json()
            await aid.post(
                f"/v1/cases/{third['id']}/decision", json={"decision": "refuse", "reasons": "收入超标"}
            )
            await aid.post(f"/v1/cases/{third['id']}/objection", json={"reason": "收入计算有误"})
            clock.at = datetime(2026, 10, 8, 10, 0, tzinfo=UTC)
            sweep = (await bureau.post("/v1/clock-sweeps")).json()
            assert {"case_id": third["id"], "clock": "objection"} not in sweep["breached"]
            clock.at = datetime(2026, 10, 9, 1, 0, tzinfo=UTC)
            sweep = (await bureau.post("/v1/clock-sweeps")).json()
            assert {"case_id": third["id"], "clock": "objection"} in sweep["breached"]
            assert (await bureau.post("/v1/clock-sweeps")).json()["breached"] == []  # once only
        breach = [e for e in await events_of(svc["aid"].rt, third["id"]) if e["type"] == ev.DEADLINE_BREACHED]
        assert len(breach) == 1
        assert breach[0]["data"]["clock"] == "objection" and breach[0]["data"]["due"] == "2026-10-08"
        assert breach[0]["data"]["county_code"] == COUNTY and "work_order_id" in breach[0]["data"]


async def test_bad_input_is_a_field_level_problem_never_a_500(infra, no_background_sweep):
    clock = FrozenClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    async with services(infra, "aid", clock=clock) as svc:
        async with svc["aid"].client(headers=auth("aid_officer", region=COUNTY)) as aid:
            bad_id = application(applicant={"name": "王秀英", "id_number": "110105194912310021"})
            r = await aid.post("/v1/applications", json=bad_id)
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "applicant.id_number"
            assert "校验位" in r.json()["errors"][0]["message"]
            odd = application(matter={"category": "divorce_property", "cause": "离婚财产分割"})
            r = await aid.post("/v1/applications", json=odd)
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "matter.category"
            r = await aid.post("/v1/applications", json=application(exemption="rich"))
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "exemption"
            r = await aid.post("/v1/applications", json=application(region_code="999999"))
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "region_code"
            r = await aid.post("/v1/applications", json=application(region_code="140403"))  # 潞州区
            assert r.status_code == 404  # outside this officer's county
            assert (
                await aid.post(f"/v1/cases/{uuid.uuid4()}/decision", json={"decision": "grant"})
            ).status_code == 404
            r = await aid.post("/v1/applications", json=application(attachments=[{"kind": "selfie"}]))
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "attachments.0.kind"
            rules = (await aid.get("/v1/rules")).json()  # what the desk form offers comes from rules.yaml
            assert "consumer_rights" in rules["matters"] and set(rules["exemptions"]) >= {"migrant_worker"}
            assert rules["threshold"]["monthly_income_per_capita"] == "1980"
        async with svc["aid"].client(headers=auth("lawyer", region=COUNTY)) as lawyer:
            assert (await lawyer.post("/v1/applications", json=application())).status_code == 403
