"""Mediation clocks and supervision, dispatch's events (assignment, staff availability) and the
statistics, on the real PostgreSQL and broker."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from libs.common.clock import FrozenClock
from libs.common.events import dispatch as dev
from libs.common.events import mediation as ev
from libs.common.events.envelope import make_event
from libs.common.events.topics import DISPATCH, PARTITIONS, topic
from libs.common.testing.auth import auth
from libs.common.testing.infra import consumers_ready, services, wait_for
from services.mediation import outcome
from services.mediation.models import Case, Mediator, outbox

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing
CLOCK = FrozenClock(T0)
MEDIATOR = auth("mediator", region="1404")


@pytest.fixture(scope="module")
async def svc(infra):
    async with services(infra, "mediation", clock=CLOCK) as running:
        svc = running["mediation"]
        await consumers_ready(svc)

        async def owns_every_partition() -> bool:
            # This service is the only live member of its group: no earlier run's member still holds
            # a partition (else events keyed there wait for that member's session to time out).
            return len(svc.rt.consumers[0].consumer.assignment()) == PARTITIONS

        await wait_for(owns_every_partition, timeout=60, what="all dispatch partitions")

        async def caught_up() -> bool:
            # The shared test broker holds every earlier test's dispatch events (each dispatch
            # seeded announces its 1,093 demo staff): a new group reads them all first.
            c = svc.rt.consumers[0]
            tps = c.consumer.assignment()
            known = all(c.consumer.highwater(tp) is not None for tp in tps)
            return known and c.lanes is not None and not any(c.lanes.lag().values())

        await wait_for(caught_up, timeout=180, interval=0.5, what="mediation to read the dispatch backlog")
        yield svc


@pytest.fixture(autouse=True)
def _reset_clock():
    CLOCK.at = T0


@pytest.fixture
async def api(svc):
    async with svc.client(headers=MEDIATOR) as client:
        yield client


async def register(api, region="140403001", **over) -> dict:
    rows = (await api.get("/v1/committees", params={"region_code": region})).json()
    body = {
        "work_order_id": str(uuid.uuid4()),
        "committee_id": next(c for c in rows if c["region_code"] == region)["id"],
        "dispute_type": "debt",
        "summary": "借款两万元到期未还，多次催要无果。",
        "claims": "请求归还借款两万元",
        "parties": [
            {"side": "applicant", "name": "赵立明", "phone": "13800001111"},
            {"side": "respondent", "name": "钱进", "phone": "13900002222"},
        ],
    }
    body.update(over)
    r = await api.post("/v1/cases", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def sweep(svc, at: datetime) -> set[str]:
    async with svc.rt.sessionmaker() as s, s.begin():
        return {str(c.id) for c in await outcome.sweep_deadlines(s, now=at)}


async def breach_events(svc, case_id: str) -> list[dict]:
    async with svc.rt.sessionmaker() as s:
        rows = (
            await s.execute(
                select(outbox.c.event)
                .where(outbox.c.event["subject"].astext == case_id)
                .order_by(outbox.c.id)
            )
        ).scalars()
        return [e["data"] for e in rows if e["type"] == ev.DEADLINE_BREACHED]


async def publish(svc, event_type: str, payload, key: str) -> None:
    env = make_event(event_type, source=dev.SOURCE, payload=payload)
    headers, value = env.to_kafka()
    await svc.rt.producer.send_and_wait(topic(DISPATCH), value, key=key.encode(), headers=headers)


async def test_court_referred_clocks_and_supervision(svc, api):
    summary = await register(
        api, source="court", court_procedure="post_filing_summary", referral_body="潞州区人民法院"
    )
    ordinary = await register(api, source="court", court_procedure="post_filing_ordinary")
    pre = await register(api, source="court", court_procedure="pre_filing")
    default = await register(api, source="police")
    assert [c["due_date"] for c in (summary, ordinary, pre, default)] == [
        "2026-03-09",  # 7 days (委托, summary procedure)
        "2026-03-17",  # 15 days (委托, ordinary procedure)
        "2026-04-01",  # 30 days (委派, before filing)
        "2026-04-02",  # one month
    ]
    assert "7 日" in summary["deadline_basis"]

    day_after = T0 + timedelta(days=8)  # 10 March: the summary case is one day over
    assert await sweep(svc, day_after) == {summary["id"]}
    assert await sweep(svc, day_after) == set()  # one supervision event per due date
    (breach,) = await breach_events(svc, summary["id"])
    assert breach["days_over"] == 1 and breach["work_order_id"] == summary["work_order_id"]
    assert breach["due_date"] == "2026-03-09"

    # Extension only with every party's consent.
    parties = [p["id"] for p in summary["parties"]]
    url = f"/v1/cases/{summary['id']}/extensions"
    r = await api.post(url, json={"days": 7, "consenting_party_ids": parties[:1], "reason": "双方需补充证据"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "consenting_party_ids"
    assert "钱进" in r.json()["errors"][0]["message"]
    r = await api.post(url, json={"days": 7, "consenting_party_ids": parties, "reason": "双方需补充证据"})
    assert r.json()["due_date"] == "2026-03-16" and len(r.json()["extensions"]) == 1
    assert await sweep(svc, day_after + timedelta(days=2)) == set()
    assert summary["id"] in await sweep(svc, T0 + timedelta(days=15))  # the new due date breached too
    assert len(await breach_events(svc, summary["id"])) == 2

    # A case that concluded is never supervised; the endpoint runs the same sweep.
    await api.post(
        f"/v1/cases/{ordinary['id']}/consents",
        json={"party_id": ordinary["parties"][1]["id"], "decision": "refused", "reason": "已起诉，不愿调解"},
    )
    CLOCK.at = T0 + timedelta(days=20)
    async with svc.client(headers=auth("supervisor")) as sup:
        r = await sup.post("/v1/supervision/sweep")
    assert r.status_code == 200 and ordinary["number"] not in r.json()["breached"]
    assert await breach_events(svc, ordinary["id"]) == []


async def test_availability_events_keep_mediators_current(svc, api):
    async with svc.rt.sessionmaker() as s:
        m = await s.scalar(
            select(Mediator).where(Mediator.county_code == "140403", Mediator.role == "mediator")
        )
    payload = dev.StaffAvailabilityV1(
        staff_id=str(m.staff_id),
        name=m.name,
        role=m.role,
        skills=m.skills,
        service_point_id=str(m.service_point_id),
        county_code=m.county_code,
        region_code=m.region_code,
        active=True,
        signed_in=True,
        on_leave_until=date(2026, 3, 20),
        slots=[dev.DutySlotV1(weekday=1, start=time(9), end=time(12))],
        # Newer than anything already on the shared test broker: every dispatch started by an
        # earlier test announced these demo staff at its wall-clock time, and an event older
        # than what mediation holds is rightly ignored (Mediator.as_of) — at T0 this one was,
        # whenever such a test ran first (seen in CI).
        at=datetime.now(UTC) + timedelta(days=1),
    )
    await publish(svc, dev.STAFF_AVAILABILITY, payload, key="140403")

    async def on_leave():
        async with svc.rt.sessionmaker() as s:
            return (await s.get(Mediator, m.staff_id, populate_existing=True)).on_leave_until

    await wait_for(on_leave, timeout=20, what="the availability event to land")
    # An older event (redelivered out of order) changes nothing.
    stale = payload.model_copy(update={"on_leave_until": None, "at": payload.at - timedelta(hours=1)})
    await publish(svc, dev.STAFF_AVAILABILITY, stale, key="140403")
    # A later event on the same key (same partition, so processed after the stale one) as a marker.
    async with svc.rt.sessionmaker() as s:
        m2 = await s.scalar(
            select(Mediator).where(
                Mediator.county_code == "140403", Mediator.role == "mediator", Mediator.staff_id != m.staff_id
            )
        )
    marker = payload.model_copy(
        update={"staff_id": str(m2.staff_id), "name": m2.name, "on_leave_until": None, "signed_in": True}
    )
    await publish(svc, dev.STAFF_AVAILABILITY, marker, key="140403")

    async def marker_landed():
        async with svc.rt.sessionmaker() as s:
            return (await s.get(Mediator, m2.staff_id, populate_existing=True)).signed_in

    await wait_for(marker_landed, timeout=20, what="the marker event")
    listed = {
        x["staff_id"]: x for x in (await api.get("/v1/mediators", params={"county_code": "140403"})).json()
    }
    assert (
        listed[str(m.staff_id)]["available"] is False
        and "休假" in listed[str(m.staff_id)]["unavailable_reason"]
    )
    assert listed[str(m.staff_id)]["slots"] == [[1, "09:00", "12:00"]]

    case = await register(api)
    r = await api.post(
        f"/v1/cases/{case['id']}/mediator", json={"chosen_by": "parties", "staff_id": str(m.staff_id)}
    )
    assert r.status_code == 409 and "休假" in r.json()["detail"]
    r = await api.post(f"/v1/cases/{case['id']}/mediator", json={"chosen_by": "committee"})
    assert r.status_code == 200 and r.json()["mediator_staff_id"] != str(m.staff_id)
    assert await on_leave() == date(2026, 3, 20)


async def test_assignment_event_opens_one_case_at_the_village_committee(svc, api):
    order_id = str(uuid.uuid4())
    staff = (await api.get("/v1/mediators", params={"county_code": "140426"})).json()[0]
    assigned = dev.AssignedV1(
        assignment_id=str(uuid.uuid4()),
        work_order_id=order_id,
        county_code="140426",
        region_code="140426001002",
        service_type="mediation",
        staff_id=staff["staff_id"],
        staff_name=staff["name"],
        service_point_id=str(uuid.uuid4()),
        service_point_name="黎城县公共法律服务中心",
        requester_name="孙桂英",
        description="与邻居因宅基地界址发生争执，希望调解。",
        accepted_at=T0,
    )
    await publish(svc, dev.ASSIGNED, assigned, key="140426")
    await publish(svc, dev.ASSIGNED, assigned, key="140426")  # a second delivery with a new event id

    async def opened():
        return (await api.get("/v1/cases", params={"work_order_id": order_id})).json() or None

    (case,) = await wait_for(opened, timeout=20, what="the case from dispatch.assigned")
    assert case["mediator_staff_id"] == staff["staff_id"] and case["source"] == "application"
    committees = (await api.get("/v1/committees", params={"region_code": "140426001002"})).json()
    assert case["committee_id"] == committees[0]["id"] and committees[0]["kind"] in ("village", "residents")
    r = await api.post(
        f"/v1/cases/{case['id']}/parties", json={"parties": [{"side": "respondent", "name": "周大勇"}]}
    )
    assert [p["consent"] for p in r.json()["parties"]] == ["given", "pending"]
    assert case["dispute_type"] == "land"  # first guess from the citizen's words
    r = await api.patch(f"/v1/cases/{case['id']}", json={"dispute_type": "family", "claims": "请求确认界址"})
    assert r.json()["dispute_type"] == "family" and r.json()["claims"] == "请求确认界址"
    r = await api.patch(f"/v1/cases/{case['id']}", json={"dispute_type": "unknown"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "dispute_type"
    async with svc.rt.sessionmaker() as s:
        assert (
            await s.scalar(
                select(func.count()).select_from(Case).where(Case.work_order_id == uuid.UUID(order_id))
            )
            == 1
        )


async def test_statistics_by_source_type_committee_and_county(svc, api):
    lic = auth("mediator", region="140426")
    async with svc.client(headers=lic) as li:
        agreed = await register(li, region="140426002", source="police", dispute_type="neighbour")
        failed = await register(li, region="140426002", source="court", court_procedure="pre_filing")
        refused = await register(li, region="140426002")
        for c, days in ((agreed, 3), (failed, 5)):
            await li.post(
                f"/v1/cases/{c['id']}/consents", json={"party_id": c["parties"][0]["id"], "decision": "given"}
            )
            await li.post(
                f"/v1/cases/{c['id']}/consents", json={"party_id": c["parties"][1]["id"], "decision": "given"}
            )
            await li.post(f"/v1/cases/{c['id']}/mediator", json={"chosen_by": "committee"})
            await li.post(
                f"/v1/cases/{c['id']}/sessions",
                json={"scheduled_at": "2026-03-03T09:00:00+08:00", "location": "调解室"},
            )
            CLOCK.at = T0 + timedelta(days=days)
            if c is agreed:  # an agreement needs a session held (人民调解法 Art 22, 27, 28)
                held = (await li.get(f"/v1/cases/{c['id']}")).json()
                await li.post(
                    f"/v1/cases/{c['id']}/sessions/{held['sessions'][0]['id']}/record",
                    json={"present_party_ids": [p["id"] for p in held["parties"]], "notes": "双方陈述"},
                )
                r = await li.post(f"/v1/cases/{c['id']}/oral-agreement", json={"terms": "相互谅解，恢复原状"})
            else:
                r = await li.post(f"/v1/cases/{c['id']}/failure", json={"reason": "分歧过大"})
            assert r.json()["status"] in ("agreed", "closed"), r.text
        await li.post(
            f"/v1/cases/{refused['id']}/consents",
            json={"party_id": refused["parties"][1]["id"], "decision": "refused", "reason": "不愿调解"},
        )
    async with svc.client(headers=auth("supervisor", region="140426")) as sup:
        st = (await sup.get("/v1/statistics")).json()
    # Only 黎城县 is visible to its supervisor (the assignment test's case there is still open).
    assert [c["county_code"] for c in st["by_county"]] == ["140426"]
    assert (st["agreed"], st["failed"], st["refused"]) == (1, 1, 1)
    assert st["success_rate"] == 0.5 and st["avg_duration_days"] == 4.0
    sources = {x["code"]: x["total"] for x in st["by_source"]}
    assert sources["police"] == 1 and sources["court"] == 1 and sources["application"] >= 1
    assert {x["code"]: x["agreed"] for x in st["by_dispute_type"]}["neighbour"] == 1
    town = (await api.get("/v1/committees", params={"region_code": "140426002"})).json()[0]
    committee = next(c for c in st["by_committee"] if c["committee_id"] == town["id"])
    assert (committee["total"], committee["success_rate"]) == (3, 0.5)
    async with svc.client(headers=auth("supervisor", region="140427")) as other:
        assert (await other.get("/v1/statistics")).json()["total"] == 0
    async with svc.client(headers=auth("supervisor")) as city:
        r = await city.get("/v1/statistics", params={"county_code": "140426", "date_from": "2026-03-01"})
        assert r.json()["total"] == st["total"]
        assert (await city.get("/v1/statistics", params={"county_code": "14x"})).status_code == 422
