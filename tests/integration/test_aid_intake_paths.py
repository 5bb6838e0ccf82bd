"""How a legal-aid case comes in: one-time list and withdrawal on day N+1, supplement, 容缺受理,
provide-first (Art 44), custody forwarding (Art 39), notification defence (Art 25/36), 点援制,
a work-order case completed at the desk, and the holiday table copied from dispatch's event."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from libs.common.clock import FrozenClock
from libs.common.events import aid as ev
from libs.common.events import dispatch
from libs.common.events.envelope import make_event
from libs.common.events.topics import DISPATCH, PARTITIONS, topic
from libs.common.kafka import make_producer
from libs.common.testing.auth import auth
from libs.common.testing.infra import consumers_ready, services, wait_for
from services.aid.models import CalendarYear, Lawyer, outbox

COUNTY = "140430"


def application(**over):  # type: ignore[no-untyped-def]
    body = {
        "region_code": "140430003",
        "applicant": {"name": "李桂兰", "birth_date": "1950-04-02"},
        "matter": {"category": "support_maintenance", "cause": "追索赡养费", "opposing_parties": ["李建国"]},
        "requested_form": "civil_litigation_agency",
        "exemption": "elderly_no_income",
        "attachments": [{"kind": "identity"}],
    }
    body.update(over)
    return body


@pytest.fixture
def no_background_sweep(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AID_SWEEP_SECONDS", "0")  # tests sweep explicitly with the frozen clock
    # A consumer group of its own per test: a service stopped while its consumer is still joining
    # can leave a member behind in the shared broker, which must not hold "lawline-aid" partitions.
    monkeypatch.setenv("AID_CONSUMER_GROUP", f"lawline-aid-test-{uuid.uuid4().hex[:8]}")


def open_clocks(case: dict, name: str) -> list[str]:  # type: ignore[type-arg]
    return [
        c["due"] for c in case["clocks"] if c["name"] == name and not c["met_at"] and not c["cancelled_at"]
    ]


async def test_incomplete_file_is_withdrawn_on_day_n_plus_1_unless_supplemented(infra, no_background_sweep):
    clock = FrozenClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # Mon 2026-03-02 in China
    async with services(infra, "aid", clock=clock) as svc:
        async with (
            svc["aid"].client(headers=auth("counter_staff", region=COUNTY)) as desk,
            svc["aid"].client(headers=auth("supervisor", region=COUNTY)) as bureau,
        ):
            lapsed = (await desk.post("/v1/applications", json=application())).json()
            assert lapsed["status"] == "incomplete"
            # 一次性告知: everything at once — case materials and the two Art 42 proofs' missing one.
            assert lapsed["missing_items"] == ["matter_materials", "no_fixed_income_proof"]
            # 03-02 + 5 = Sat 03-07 → Mon 03-09 (民法典 Art 203); the review clock waits meanwhile.
            assert lapsed["supplement_due"] == "2026-03-09" and open_clocks(lapsed, "decision") == []
            kept = (await desk.post("/v1/applications", json=application())).json()

            clock.at = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)  # 23:00 on the due day: still in time
            assert (await bureau.post("/v1/clock-sweeps")).json()["withdrawn"] == []
            r = await desk.post(
                f"/v1/cases/{kept['id']}/supplement",
                json={"attachments": [{"kind": "matter_materials"}]},
            )
            partial = r.json()
            assert partial["status"] == "incomplete" and partial["missing_items"] == ["no_fixed_income_proof"]
            assert partial["supplement_due"] == "2026-03-09"  # the list is not reissued, the deadline stands
            r = await desk.post(
                f"/v1/cases/{kept['id']}/supplement",
                json={"attachments": [{"kind": "no_fixed_income_proof"}]},
            )
            complete = r.json()
            assert (
                complete["status"] == "under_review"
                and complete["eligibility"]["means_test"] == "exempt_art42"
            )
            # The 7 days run from the day the file became complete: 03-09 + 7 = 03-16.
            assert open_clocks(complete, "decision") == ["2026-03-16"]

            clock.at = datetime(2026, 3, 9, 16, 0, tzinfo=UTC)  # 00:00 on 03-10 in China: day N+1
            swept = (await bureau.post("/v1/clock-sweeps")).json()
            assert swept["withdrawn"] == [lapsed["id"]]
            gone = (await desk.get(f"/v1/cases/{lapsed['id']}")).json()
            assert gone["status"] == "withdrawn" and gone["allowed_actions"] == []
            assert (await desk.get(f"/v1/cases/{kept['id']}")).json()["status"] == "under_review"
            r = await desk.post(
                f"/v1/cases/{lapsed['id']}/supplement", json={"attachments": [{"kind": "identity"}]}
            )
            assert r.status_code == 409 and r.json()["allowed_actions"] == []

            # 容缺受理: deferrable items do not hold the file up.
            r = await desk.post(
                "/v1/applications",
                json=application(
                    accept_with_missing=True,
                    attachments=[{"kind": "identity"}, {"kind": "no_fixed_income_proof"}],
                ),
            )
            assert r.json()["status"] == "under_review" and r.json()["deferred_items"] == ["matter_materials"]


async def test_provide_first_and_custody_forwarding(infra, no_background_sweep):
    now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    async with services(infra, "aid", clock=FrozenClock(now)) as svc:
        async with svc["aid"].client(headers=auth("aid_officer", region=COUNTY)) as aid:
            urgent = application(
                matter={
                    "category": "labour_pay",
                    "cause": "劳动争议仲裁时效将届满",
                    "limitation_due": "2026-03-07",  # 5 days away: Art 44
                },
                attachments=[],
                exemption=None,
            )
            case = (await aid.post("/v1/applications", json=urgent)).json()
            assert case["status"] == "granted" and case["provide_first"]
            assert "第四十四条第一项" in case["decision"]["basis"][0]
            assert set(case["deferred_items"]) == {"identity", "matter_materials", "hardship_statement"}
            assert open_clocks(case, "assignment") == ["2026-03-05"]

            custody = application(
                proxy={
                    "kind": "custody",
                    "name": "沁县看守所",
                    "custody_facility": "沁县看守所",
                    "custody_received_at": (now - timedelta(hours=30)).isoformat(),
                },
                matter={"category": "criminal_defence", "cause": "盗窃", "stage": "审查起诉"},
                requested_form="criminal_defence",
            )
            late = (await aid.post("/v1/applications", json=custody)).json()
            assert late["proxy"]["forwarded_within_24h"] is False
        breach = [e for e in await _events(svc["aid"].rt, late["id"]) if e["type"] == ev.DEADLINE_BREACHED]
        assert len(breach) == 1 and breach[0]["data"]["clock"] == "custody_forwarding"
        assert breach[0]["data"]["article"] == "法律援助法第三十九条"


async def test_notification_defence_needs_no_means_test_and_is_confirmed_back(infra, no_background_sweep):
    clock = FrozenClock(datetime(2026, 2, 11, 2, 0, tzinfo=UTC))  # Wed 2026-02-11
    async with services(infra, "aid", clock=clock) as svc:
        court = auth("external_system", region=COUNTY)
        notice = {
            "body_kind": "court",
            "body_name": "沁县人民法院",
            "document_number": "(2026)晋0430刑初12号",
            "notified_at": "2026-02-11T09:00:00+08:00",
            "region_code": COUNTY,
            "ground": "life_or_death",
            "defendant": {"name": "赵某", "id_number": "11010519491231002X"},
            "cause": "故意杀人",
        }
        async with (
            svc["aid"].client(headers=court) as body,
            svc["aid"].client(headers=auth("aid_officer", region=COUNTY)) as aid,
        ):
            r = await body.post("/v1/notifications", json=notice)
            assert r.status_code == 201, r.text
            case = r.json()
            assert case["status"] == "granted" and case["kind"] == "notification"
            assert case["eligibility"]["means_test"] == "notification" and case["means"] is None
            assert case["grave_penalty"] and case["id_number_masked"] == "1101**********002X"
            # 02-11 + 3 = Sat 02-14, a make-up working day before the Spring Festival: no roll.
            assert open_clocks(case, "assignment") == ["2026-02-14"]
            bad = dict(notice, ground="rich_defendant")
            r = await body.post("/v1/notifications", json=bad)
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "ground"

            r = await aid.post(f"/v1/cases/{case['id']}/assign", json={})
            assigned = r.json()
            async with svc["aid"].rt.sessionmaker() as s:
                lawyer = await s.get(Lawyer, uuid.UUID(assigned["lawyer_id"]))
            assert lawyer.practice_years >= 3  # Art 26
            assert all("第二十六条" in why for why in assigned["assignment"]["rejected"].values())
            assert assigned["notification"]["confirmation"]["lawyer_name"] == lawyer.name

            # Art 46: the assignee may decline only with a cause; the case goes back for a new lawyer.
            first = auth("lawyer", region=COUNTY, staff_id=assigned["lawyer_id"])
            r = await aid.post(f"/v1/cases/{case['id']}/lawyer-decline", json={"reason": "忙"}, headers=first)
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
            r = await aid.post(
                f"/v1/cases/{case['id']}/lawyer-decline",
                json={"reason": "与被害人系近亲属，应当回避"},
                headers=first,
            )
            assert r.json()["status"] == "granted" and r.json()["lawyer_id"] is None
            again = (await aid.post(f"/v1/cases/{case['id']}/assign", json={})).json()
            assert again["lawyer_id"] not in (None, assigned["lawyer_id"])
            assert again["assignment"]["rejected"][assigned["lawyer_id"]] == "已拒绝或曾退回本案"

            # A second notice nobody assigns breaches on 02-15 (the day after the 调休 Saturday).
            idle = (await body.post("/v1/notifications", json=dict(notice, ground="minor"))).json()
            assert not idle["grave_penalty"]
            clock.at = datetime(2026, 2, 14, 12, 0, tzinfo=UTC)
            bureau = auth("supervisor", region=COUNTY)
            assert (await aid.post("/v1/clock-sweeps", headers=bureau)).json()["breached"] == []
            clock.at = datetime(2026, 2, 14, 16, 30, tzinfo=UTC)
            swept = (await aid.post("/v1/clock-sweeps", headers=bureau)).json()
            assert swept["breached"] == [{"case_id": idle["id"], "clock": "assignment"}]
        confirmed = [
            e for e in await _events(svc["aid"].rt, case["id"]) if e["type"] == ev.NOTIFICATION_CONFIRMED
        ]
        # one confirmation per assignment: the court learns of the replacement too
        assert len(confirmed) == 2 and confirmed[1]["data"]["notifying_body_name"] == "沁县人民法院"
        assert (
            confirmed[1]["data"]["lawyer_name"] == again["lawyer_name"] != confirmed[0]["data"]["lawyer_name"]
        )
        assert confirmed[0]["data"]["document_number"] == notice["document_number"]


async def test_work_order_case_choice_of_lawyer_and_holiday_table_from_dispatch(infra, no_background_sweep):
    clock = FrozenClock(datetime(2026, 11, 24, 2, 0, tzinfo=UTC))
    async with services(infra, "aid", clock=clock) as svc:
        await consumers_ready(svc["aid"])

        async def owns_every_partition():  # type: ignore[no-untyped-def]
            # Members of the same group left behind by earlier tests hold partitions until evicted.
            return all(len(c.consumer.assignment()) == PARTITIONS for c in svc["aid"].rt.consumers)

        await wait_for(owns_every_partition, timeout=45, what="aid's consumer to own the dispatch topic")
        producer = make_producer(infra.bootstrap)
        await producer.start()
        try:
            order_id = str(uuid.uuid4())
            officer_id = str(uuid.uuid4())
            assigned = dispatch.AssignedV1(
                assignment_id=str(uuid.uuid4()),
                work_order_id=order_id,
                county_code=COUNTY,
                region_code="140430003",
                service_type="legal_aid",
                staff_id=officer_id,
                staff_name="测试援助员",
                service_point_id=str(uuid.uuid4()),
                service_point_name="沁县公共法律服务中心",
                requester_name="王秀英",
                description="老板拖欠工资",
                accepted_at=clock.at,
            )
            # The 2027 schedule is not in chinese-calendar: only the admin table knows it.
            spring = [date(2027, 2, 6) + timedelta(days=i) for i in range(8)]
            year = dispatch.CalendarYearUpdatedV1(
                year=2027, holidays=spring, workdays=[date(2027, 2, 14)], updated_at=clock.at
            )
            for etype, payload, key in (
                (dispatch.ASSIGNED, assigned, COUNTY),
                (dispatch.CALENDAR_YEAR_UPDATED, year, "calendar"),
            ):
                headers, value = make_event(etype, source=dispatch.SOURCE, payload=payload).to_kafka()
                await producer.send_and_wait(topic(DISPATCH), value, key=key.encode(), headers=headers)
        finally:
            await producer.stop()

        async with svc["aid"].client(headers=auth("aid_officer", region=COUNTY, staff_id=officer_id)) as aid:

            async def case():  # type: ignore[no-untyped-def]
                rows = (await aid.get("/v1/cases", params={"work_order_id": order_id})).json()
                return rows[0] if rows else None

            opened = await wait_for(case, what="the case opened from the work order")
            assert opened["status"] == "received" and opened["handler_staff_id"] == officer_id

            async def stored():  # type: ignore[no-untyped-def]
                async with svc["aid"].rt.sessionmaker() as s:
                    return await s.get(CalendarYear, 2027)

            await wait_for(stored, what="the 2027 holiday table")

            # 点援制 in 沁县: the applicant names a lawyer from the county roster.
            chosen = (await aid.get("/v1/lawyers", params={"county_code": COUNTY})).json()[0]
            body = {
                "applicant": {"name": "王秀英", "phone": "13834567890"},
                "matter": {"category": "labour_pay", "cause": "追索劳动报酬", "opposing_parties": ["某公司"]},
                "requested_form": "arbitration_agency",
                "exemption": "migrant_worker",
                "attachments": [
                    {"kind": "identity"},
                    {"kind": "matter_materials"},
                    {"kind": "migrant_work_proof"},
                ],
                "preferred_lawyer_id": chosen["id"],
            }
            r = await aid.post(f"/v1/cases/{opened['id']}/application", json=body)
            assert r.status_code == 200, r.text
            reviewed = r.json()
            assert (
                reviewed["status"] == "under_review"
                and reviewed["eligibility"]["means_test"] == "exempt_art42"
            )
            assert open_clocks(reviewed, "decision") == ["2026-12-01"]  # from receipt, not from the form
            # Decide at the end of January 2027: the admin table (Spring Festival 02-06..02-13) applies.
            clock.at = datetime(2027, 1, 29, 2, 0, tzinfo=UTC)
            granted = (
                await aid.post(f"/v1/cases/{opened['id']}/decision", json={"decision": "grant"})
            ).json()
            due = [c for c in granted["clocks"] if c["name"] == "assignment"][0]
            assert due["due"] == "2027-02-01" and due["warnings"] == []  # 01-29 + 3 = Mon 02-01
            r = await aid.post(f"/v1/cases/{opened['id']}/assign", json={})
            assert (
                r.json()["lawyer_id"] == chosen["id"] and r.json()["assignment"]["rule"] == "applicant_choice"
            )
        types = [e["type"] for e in await _events(svc["aid"].rt, opened["id"])]
        assert types == [ev.CASE_OPENED, ev.APPLICATION_ACCEPTED, ev.GRANTED, ev.LAWYER_ASSIGNED]


async def _events(rt, case_id: str) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    async with rt.sessionmaker() as s:
        rows = (
            await s.execute(select(outbox.c.event).where(outbox.c.key == case_id).order_by(outbox.c.id))
        ).all()
    return [r[0] for r in rows]
