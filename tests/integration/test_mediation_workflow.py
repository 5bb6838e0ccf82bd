"""A mediation case through 人民调解法 on the real PostgreSQL and broker: registration, consent
(Art 17, 23), mediators (Art 19), sessions, the written agreement (Art 29), the oral one (Art 28,
30), failure (Art 26), the judicial-confirmation reminder (Art 33) and follow-up (Art 31)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from libs.common.clock import FrozenClock
from libs.common.crypto import get_cipher
from libs.common.events import mediation as ev
from libs.common.testing.auth import auth
from libs.common.testing.infra import consumers_ready, services
from services.mediation.models import Party, outbox

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing
CLOCK = FrozenClock(T0)
MEDIATOR = auth("mediator", region="140403")


def resident_id(prefix17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return prefix17 + "10X98765432"[sum(int(c) * w for c, w in zip(prefix17, weights, strict=True)) % 11]


@pytest.fixture(scope="module")
async def svc(infra):
    async with services(infra, "mediation", clock=CLOCK) as running:
        # Let the consumer finish joining its group, so that stopping it leaves the group cleanly.
        await consumers_ready(running["mediation"])
        yield running["mediation"]


@pytest.fixture(autouse=True)
def _reset_clock():
    CLOCK.at = T0


@pytest.fixture
async def api(svc):
    async with svc.client(headers=MEDIATOR) as client:
        yield client


async def committee(api, region: str = "140403001") -> dict:
    rows = (await api.get("/v1/committees", params={"region_code": region})).json()
    return next(c for c in rows if c["region_code"] == region)


async def register(api, **over) -> dict:
    body = {
        "work_order_id": str(uuid.uuid4()),
        "source": "application",
        "committee_id": (await committee(api))["id"],
        "dispute_type": "neighbour",
        "summary": "邻居家空调外机噪音大还滴水，多次沟通无果。",
        "claims": "请求对方移走空调外机并赔偿损失五百元",
        "parties": [
            {
                "side": "applicant",
                "name": "王秀英",
                "id_number": resident_id("14040319800101002"),
                "phone": "138 3456 7890",
                "address": "潞州区英雄中路 1 号",
            },
            {"side": "respondent", "name": "李建国", "phone": "13912345678"},
        ],
    }
    body.update(over)
    r = await api.post("/v1/cases", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def events(svc, case_id: str, event_type: str) -> list[dict]:
    async with svc.rt.sessionmaker() as s:
        rows = (
            await s.execute(
                select(outbox.c.event)
                .where(outbox.c.event["subject"].astext == case_id)
                .order_by(outbox.c.id)
            )
        ).scalars()
        return [e for e in rows if e["type"] == event_type]


async def to_mediating(api, case: dict) -> dict:
    respondent = next(p for p in case["parties"] if p["side"] == "respondent")
    r = await api.post(
        f"/v1/cases/{case['id']}/consents", json={"party_id": respondent["id"], "decision": "given"}
    )
    assert r.json()["status"] == "accepted", r.text
    r = await api.post(f"/v1/cases/{case['id']}/mediator", json={"chosen_by": "committee"})
    assert r.status_code == 200, r.text
    r = await api.post(
        f"/v1/cases/{case['id']}/sessions",
        json={"scheduled_at": "2026-03-04T09:30:00+08:00", "location": "社区调解室", "public": False},
    )
    assert r.status_code == 201 and r.json()["status"] == "mediating", r.text
    return r.json()


async def hold_session(api, case: dict, notes: str = "双方陈述，调解员释法说理") -> dict:
    """Art 22, 27: the session is held and recorded — only then can an agreement be recorded."""
    r = await api.post(
        f"/v1/cases/{case['id']}/sessions/{case['sessions'][0]['id']}/record",
        json={"present_party_ids": [p["id"] for p in case["parties"]], "notes": notes},
    )
    assert r.status_code == 200, r.text
    return r.json()


AGREEMENT = {
    "facts": "被申请人空调外机安装于申请人窗下，噪音及滴水影响申请人休息。",
    "disputed_points": "外机是否移位及损失赔偿数额",
    "responsibilities": "被申请人安装不当，负主要责任",
    "terms": "被申请人于十日内将空调外机移至自家阳台外侧，并赔偿申请人三百元",
    "performance_manner": "现金当面支付，移机由被申请人自行联系安装",
    "performance_deadline": "2026-03-15",
}


async def test_registration_encrypts_id_masks_phone_and_announces_the_case(svc, api):
    case = await register(api)
    assert case["status"] == "registered" and case["number"].startswith("TJ140403")
    applicant, respondent = case["parties"]
    assert applicant["phone_masked"] == "138****7890" and "phone" not in applicant
    assert applicant["id_number_masked"].startswith("1404") and "*" in applicant["id_number_masked"]
    assert applicant["consent"] == "given" and respondent["consent"] == "pending"  # applied = consented
    assert case["due_date"] == "2026-04-02" and case["allowed_actions"]
    async with svc.rt.sessionmaker() as s:
        row = await s.get(Party, uuid.UUID(applicant["id"]))
        assert row.id_number_enc.startswith(get_cipher().current + ":")
        assert get_cipher().decrypt(row.id_number_enc) == resident_id("14040319800101002")
        assert row.id_number_index == get_cipher().blind_index(resident_id("14040319800101002"))
    opened = await events(svc, case["id"], ev.CASE_OPENED)
    assert opened[0]["data"]["work_order_id"] == case["work_order_id"]
    listed = (await api.get("/v1/cases", params={"work_order_id": case["work_order_id"]})).json()
    assert [c["id"] for c in listed] == [case["id"]]


async def test_bad_registration_names_the_field(api):
    com = await committee(api)
    bad = {
        "committee_id": com["id"],
        "dispute_type": "neighbour",
        "summary": "噪音纠纷一宗。",
        "claims": "停止侵害",
        "source": "court",
        "parties": [{"side": "applicant", "name": "王秀英", "id_number": "140403198001010021"}],
    }
    r = await api.post("/v1/cases", json=bad)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"] for e in r.json()["errors"]}
    assert "parties.0.id_number" in fields
    r = await api.post("/v1/cases", json=dict(bad, parties=[{"side": "applicant", "name": "王秀英"}]))
    assert r.status_code == 422 and "court_procedure" in r.json()["errors"][0]["message_en"]


async def test_a_second_case_for_the_same_work_order_is_409_not_500(api):
    first = await register(api)
    again = await api.post(
        "/v1/cases",
        json={
            "work_order_id": first["work_order_id"],
            "source": "application",
            "committee_id": first["committee_id"],
            "dispute_type": "neighbour",
            "summary": "同一工单再次登记。",
            "claims": "停止侵害",
            "parties": [{"side": "applicant", "name": "王秀英"}],
        },
    )
    assert again.status_code == 409, again.text
    body = again.json()
    assert body["code"] == "work_order_has_case" and body["detail_en"] and body["detail"]
    listed = (await api.get("/v1/cases", params={"work_order_id": first["work_order_id"]})).json()
    assert [c["id"] for c in listed] == [first["id"]]


async def test_refusal_stops_the_case_and_tells_the_other_routes(svc, api):
    case = await register(api, dispute_type="labour")
    respondent = case["parties"][1]
    r = await api.post(
        f"/v1/cases/{case['id']}/consents",
        json={"party_id": respondent["id"], "decision": "refused", "reason": "不愿调解，要求直接仲裁"},
    )
    body = r.json()
    assert body["status"] == "closed" and body["outcome"] == "refused"
    assert "李建国" in body["close_reason"] and body["concluded_at"]
    assert [x["route"] for x in body["routes_told"]] == ["arbitration", "administrative", "litigation"]
    # Nothing else may happen to a stopped case: 409 listing what is still allowed.
    r = await api.post(f"/v1/cases/{case['id']}/mediator", json={"chosen_by": "committee"})
    assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["allowed_actions"] == ["return_visit"]
    # The one 409 of libs.common.workflow, the same body as aid's.
    assert {k: r.json()[k] for k in ("code", "state", "action")} == {
        "code": "transition_not_allowed",
        "state": "closed",
        "action": "assign_mediator",
    }
    refused = [
        e for e in await events(svc, case["id"], ev.CASE_TRANSITIONED) if e["data"]["action"] == "refuse"
    ]
    assert refused[0]["data"]["work_order_id"] == case["work_order_id"]
    assert refused[0]["data"]["to_status"] == "closed" and refused[0]["data"]["data"]["routes"]


async def test_written_agreement_needs_every_signature_and_the_seal(svc, api):
    case = await to_mediating(api, await register(api))
    mediator_id = case["mediator_staff_id"]
    assert mediator_id and case["mediator_chosen_by"] == "committee"
    session_id = case["sessions"][0]["id"]
    applicant, respondent = case["parties"]
    r = await api.post(
        f"/v1/cases/{case['id']}/sessions/{session_id}/record",
        json={"present_party_ids": [applicant["id"], respondent["id"]], "notes": "双方陈述，达成初步意向"},
    )
    assert r.json()["sessions"][0]["status"] == "held"
    r = await api.post(f"/v1/cases/{case['id']}/agreement", json=AGREEMENT)
    assert r.status_code == 201 and r.json()["status"] == "agreement_pending"

    sign = f"/v1/cases/{case['id']}/agreement/signatures"
    await api.post(sign, json={"signer": "party", "party_id": applicant["id"], "method": "thumbprint"})
    await api.post(sign, json={"signer": "party", "party_id": respondent["id"], "method": "signature"})
    r = await api.post(sign, json={"signer": "mediator"})
    assert r.status_code == 403  # only the case's own mediator signs as mediator
    own = auth("mediator", region="140403", staff_id=mediator_id)
    r = await api.post(sign, json={"signer": "mediator"}, headers=own)
    body = r.json()
    # Everyone signed but no committee seal yet: NOT effective (Art 29).
    assert body["status"] == "agreement_pending" and body["agreement"]["effective_at"] is None
    html = (await api.get(f"/v1/cases/{case['id']}/agreement.html")).text
    assert "人民调解协议书" in html and "本协议尚未生效" in html and "未盖章" in html
    assert "138****7890" in html and "13834567890" not in html

    r = await api.post(sign, json={"signer": "committee_seal"})
    body = r.json()
    assert body["status"] == "agreed" and body["outcome"] == "agreed_written"
    assert body["confirmation"]["offered"] and body["confirmation"]["deadline"] == "2026-04-01"
    html = (await api.get(f"/v1/cases/{case['id']}/agreement.html")).text
    assert "本协议尚未生效" not in html and "已盖章" in html and "司法确认" in html
    assert "外机是否移位" in html and "已按指印" in html
    # Art 29's particulars of a person: 性别 and 年龄 from the ID number, the number itself masked.
    assert "女，46 岁，身份证号码 1404" in html

    confirm = f"/v1/cases/{case['id']}/judicial-confirmation"
    both = {"applied_on": "2026-03-10", "court": "长治市潞州区人民法院"}
    r = await api.post(confirm, json=dict(both, applying_party_ids=[applicant["id"]]))
    assert r.status_code == 409 and "共同" in r.json()["detail"]  # Art 33: jointly
    assert r.json()["code"] == "transition_not_allowed" and r.json()["action"] == "confirmation_applied"
    r = await api.post(confirm, json=dict(both, applying_party_ids=[applicant["id"], respondent["id"]]))
    assert r.json()["confirmation"]["application"]["court"] == "长治市潞州区人民法院"
    r = await api.post(f"/v1/cases/{case['id']}/follow-ups", json={"kind": "performance"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "performance"
    r = await api.post(
        f"/v1/cases/{case['id']}/follow-ups", json={"kind": "performance", "performance": "full"}
    )
    assert r.json()["status"] == "agreed"
    r = await api.post(f"/v1/cases/{case['id']}/follow-ups", json={"kind": "return_visit", "satisfied": True})
    assert r.json()["status"] == "closed" and len(r.json()["follow_ups"]) == 2
    actions = [e["data"]["action"] for e in await events(svc, case["id"], ev.CASE_TRANSITIONED)]
    assert actions.count("sign_agreement") == 4 and "agreement_effective" in actions
    assert actions[-1] == "return_visit"


async def test_no_confirmation_reminder_for_a_marriage_matter(api):
    case = await hold_session(api, await to_mediating(api, await register(api, dispute_type="marriage")))
    await api.post(f"/v1/cases/{case['id']}/agreement", json=AGREEMENT)
    own = auth("mediator", region="140403", staff_id=case["mediator_staff_id"])
    sign = f"/v1/cases/{case['id']}/agreement/signatures"
    for p in case["parties"]:
        await api.post(sign, json={"signer": "party", "party_id": p["id"], "method": "seal"})
    await api.post(sign, json={"signer": "mediator"}, headers=own)
    body = (await api.post(sign, json={"signer": "committee_seal"})).json()
    assert body["status"] == "agreed"
    assert body["confirmation"]["offered"] is False and body["confirmation"]["deadline"] is None
    assert "婚姻" in body["confirmation"]["text"]
    r = await api.post(
        f"/v1/cases/{case['id']}/judicial-confirmation",
        json={
            "applied_on": "2026-03-05",
            "court": "潞州区人民法院",
            "applying_party_ids": [p["id"] for p in case["parties"]],
        },
    )
    assert r.status_code == 409 and "不适用" in r.json()["detail"]


async def test_no_agreement_before_any_session_was_held(api):
    case = await to_mediating(api, await register(api))
    for path, body in (("agreement", AGREEMENT), ("oral-agreement", {"terms": "当场和解"})):
        r = await api.post(f"/v1/cases/{case['id']}/{path}", json=body)
        assert r.status_code == 409 and "第二十八条" in r.json()["detail"], r.text
        assert r.json()["allowed_actions"] == ["record_session"]
    assert (await api.get(f"/v1/cases/{case['id']}")).json()["status"] == "mediating"


async def test_oral_agreement_is_recorded_and_effective_the_same_day(api):
    case = await hold_session(api, await to_mediating(api, await register(api)))
    CLOCK.advance(days=2)
    r = await api.post(
        f"/v1/cases/{case['id']}/oral-agreement",
        json={"terms": "被申请人当场道歉并承诺夜间关闭空调外机", "performance_manner": "即时履行"},
    )
    body = r.json()
    assert r.status_code == 201 and body["status"] == "agreed" and body["outcome"] == "agreed_oral"
    assert body["agreement"]["form"] == "oral"
    assert body["agreement"]["effective_at"].startswith("2026-03-04")  # the day it was reached (Art 30)
    assert body["confirmation"]["offered"] is False
    assert (await api.get(f"/v1/cases/{case['id']}/agreement.html")).status_code == 404


async def test_failure_tells_routes_and_illegal_steps_are_409(api):
    case = await register(api, dispute_type="land")
    r = await api.post(f"/v1/cases/{case['id']}/oral-agreement", json={"terms": "口头协议内容"})
    assert r.status_code == 409 and "consent" in r.json()["allowed_actions"]
    case = await to_mediating(api, case)
    r = await api.post(f"/v1/cases/{case['id']}/failure", json={"reason": "双方对宅基地界址分歧过大"})
    body = r.json()
    assert body["status"] == "closed" and body["outcome"] == "failed"
    assert {x["route"] for x in body["routes_told"]} == {"administrative", "litigation"}


async def test_mediator_choice_recusal_and_jurisdiction(svc, api):
    case = await register(api)
    mediators = (await api.get("/v1/mediators", params={"county_code": "140403"})).json()
    chosen = next(m for m in mediators if m["role"] == "mediator" and m["available"])
    r = await api.post(f"/v1/cases/{case['id']}/mediator", json={"chosen_by": "parties"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "staff_id"
    r = await api.post(
        f"/v1/cases/{case['id']}/mediator", json={"chosen_by": "parties", "staff_id": chosen["staff_id"]}
    )
    assert r.json()["mediator_staff_id"] == chosen["staff_id"] and r.json()["mediator_chosen_by"] == "parties"
    r = await api.post(
        f"/v1/cases/{case['id']}/recusals",
        json={
            "staff_id": chosen["staff_id"],
            "party_id": case["parties"][1]["id"],
            "relation": "系被申请人之表兄",
        },
    )
    assert r.json()["mediator_staff_id"] is None and r.json()["recusals"][0]["relation"] == "系被申请人之表兄"
    r = await api.post(
        f"/v1/cases/{case['id']}/mediator", json={"chosen_by": "parties", "staff_id": chosen["staff_id"]}
    )
    assert r.status_code == 409 and "回避" in r.json()["detail"]
    assert r.json()["code"] == "transition_not_allowed" and r.json()["action"] == "assign_mediator"
    assert r.json()["staff_id"] == chosen["staff_id"] and "assign_mediator" in r.json()["allowed_actions"]
    # The committee's own pick skips the recused mediator.
    r = await api.post(f"/v1/cases/{case['id']}/mediator", json={"chosen_by": "committee"})
    assert r.status_code == 200 and r.json()["mediator_staff_id"] not in (None, chosen["staff_id"])
    # Another county's mediator does not see the case at all.
    async with svc.client(headers=auth("mediator", region="140430")) as other:
        assert (await other.get(f"/v1/cases/{case['id']}")).status_code == 404
        r = await other.post(f"/v1/cases/{case['id']}/failure", json={"reason": "越权操作"})
        assert r.status_code == 404
    async with svc.client(headers=auth("operator")) as operator:
        assert (await operator.get("/v1/cases")).status_code == 403


async def test_risk_flag_raises_an_urgent_masked_police_event(svc, api):
    case = await to_mediating(api, await register(api))
    calm = await to_mediating(api, await register(api))
    r = await api.post(
        f"/v1/cases/{calm['id']}/sessions/{calm['sessions'][0]['id']}/record",
        json={
            "present_party_ids": [calm["parties"][0]["id"]],
            "notes": "被申请人未到场",
            "risk": {"risk_kind": "criminal", "description": "申请人称将“以牙还牙”报复对方"},
        },
    )
    assert r.json()["risk_flag"] is True and r.json()["sessions"][0]["attendance"] == {
        calm["parties"][0]["id"]: True,
        calm["parties"][1]["id"]: False,
    }
    assert (await events(svc, calm["id"], ev.RISK_REPORTED))[0]["data"]["risk_kind"] == "criminal"
    r = await api.post(
        f"/v1/cases/{case['id']}/risk",
        json={"risk_kind": "violence", "description": "被申请人扬言要砸门，电话 13912345678 多次威胁"},
    )
    assert r.json()["risk_flag"] is True
    reported = await events(svc, case["id"], ev.RISK_REPORTED)
    data = reported[0]["data"]
    assert data["urgency"] == "urgent" and data["risk_kind"] == "violence"
    assert "13912345678" not in data["description"] and "139****5678" in data["description"]
    assert data["work_order_id"] == case["work_order_id"]
