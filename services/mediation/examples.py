"""Examples for mediation's OpenAPI document (#17): a real-shaped neighbour dispute in 长治市潞州区 —
water leaking from the flat above — from registration to a signed written agreement. Pure data:
the schemas put them on their models, tests/unit/test_aid_mediation_examples.py validates each
request example with the model's own validators (ID check digits included)."""

from __future__ import annotations

from typing import Any

from libs.common.openapi_examples import examples, ok  # noqa: F401  (re-exported: ex.examples, ex.ok)

CASE_ID = "7d3e9f10-2a4b-4c5d-8e6f-1a2b3c4d5e6f"
ORDER_ID = "2c4e6a8b-0d1f-4a3b-9c5d-7e9f1a3b5c7d"
COMMITTEE_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
STAFF_ID = "4f5e6d7c-8b9a-4c1d-9e2f-3a4b5c6d7e8f"
APPLICANT_ID = "11111111-2222-4333-8444-555555555555"
RESPONDENT_ID = "66666666-7777-4888-8999-aaaaaaaaaaaa"
SESSION_ID = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
LIAISON_ID = "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b"

APPLICANT = {
    "side": "applicant",
    "kind": "person",
    "name": "李秀梅",
    "id_number": "140403198507150429",
    "phone": "13803551234",
    "address": "山西省长治市潞州区英雄中路街道太行小区3号楼2单元301室",
}
RESPONDENT = {
    "side": "respondent",
    "kind": "person",
    "name": "陈志刚",
    "id_number": "140404197902210518",
    "phone": "0355-2021234",
    "address": "山西省长治市潞州区英雄中路街道太行小区3号楼2单元401室",
}
COMPANY = {
    "side": "respondent",
    "kind": "organisation",
    "name": "长治市太行物业服务有限公司",
    "org_code": "91140400MA0K2B3C4D",
    "legal_representative": "郭建平",
    "phone": "0355-2025678",
    "address": "山西省长治市潞州区太行东街66号",
}
CASE_IN = {
    "work_order_id": ORDER_ID,
    "source": "application",
    "committee_id": COMMITTEE_ID,
    "dispute_type": "neighbour",
    "summary": "楼上住户卫生间管道渗漏，导致申请人家中天花板及墙面受损，双方多次协商未果。",
    "claims": "请求对方修复漏水管道并赔偿装修损失3200元",
    "parties": [APPLICANT, RESPONDENT],
}
REGISTRATION_UPDATE = {"dispute_type": "damages", "claims": "请求对方修复漏水管道并赔偿装修损失3500元"}
PARTY_ADD = {"parties": [COMPANY]}
CONSENT = {"party_id": RESPONDENT_ID, "decision": "given", "method": "signed_form"}
MEDIATOR = {"staff_id": STAFF_ID, "chosen_by": "parties"}
RECUSAL = {
    "staff_id": STAFF_ID,
    "party_id": RESPONDENT_ID,
    "relation": "系被申请人之表兄",
    "raised_by": "mediator",
}
SESSION = {
    "scheduled_at": "2026-12-08T09:30:00+08:00",
    "location": "英雄中路街道人民调解委员会调解室",
    "public": False,
    "invited": ["太行小区物业经理", "3号楼楼长"],
}
RISK = {"risk_kind": "violence", "description": "被申请人在调解中情绪激动，扬言要“找人收拾”申请人一家。"}
SESSION_RECORD = {
    "present_party_ids": [APPLICANT_ID, RESPONDENT_ID],
    "notes": "双方到场。经现场查看，漏水系401室卫生间下水管老化所致；被申请人同意维修并协商赔偿数额。",
}
AGREEMENT = {
    "facts": "被申请人401室卫生间下水管老化渗漏，致申请人301室天花板及墙面受损。",
    "disputed_points": "渗漏原因及装修损失的赔偿数额。",
    "responsibilities": "被申请人对渗漏造成的损失承担全部责任。",
    "terms": "一、被申请人于2026年12月15日前更换卫生间下水管；二、被申请人赔偿申请人装修损失3000元。",
    "performance_manner": "赔偿款以银行转账方式一次性支付给申请人。",
    "performance_deadline": "2026-12-20",
}
ORAL_AGREEMENT = {
    "terms": "被申请人当场赔偿申请人损失800元，申请人不再追究。",
    "performance_manner": "当场现金支付",
    "performance_deadline": "2026-12-08",
}
SIGN = {"signer": "party", "party_id": APPLICANT_ID, "method": "signature"}
FAIL = {"reason": "被申请人坚持认为渗漏与其无关，拒绝承担任何赔偿。"}
EXTENSION = {
    "days": 15,
    "consenting_party_ids": [APPLICANT_ID, RESPONDENT_ID],
    "reason": "需等待房屋渗漏鉴定结论",
}
RECEIPT = {
    "received_at": "2026-11-27T16:20:00+08:00",
    "reason": "申请人周五下午到调解委员会递交书面申请，周一登记",
}
LIAISON_ACK = {
    "police_unit": "潞州区公安分局英雄中路派出所",
    "action_taken": "已电话通报值班民警，民警到场对双方进行了劝诫。",
}
CONFIRMATION = {
    "applied_on": "2026-12-10",
    "court": "长治市潞州区人民法院",
    "applying_party_ids": [APPLICANT_ID, RESPONDENT_ID],
}
FOLLOW_UP = {"kind": "performance", "performance": "full", "note": "回访确认管道已更换，赔偿款已到账。"}

PARTY_OUT = {
    "id": APPLICANT_ID,
    "seq": 1,
    "side": "applicant",
    "kind": "person",
    "name": "李秀梅",
    "id_number_masked": "1404**********0429",
    "org_code": None,
    "legal_representative": None,
    "phone_masked": "138****1234",
    "address": APPLICANT["address"],
    "consent": "given",
    "consent_method": None,  # an applicant who applied has consented by applying (Art 17)
    "consent_at": None,
    "refusal_reason": None,
    "sign_method": "signature",
    "signed_at": "2026-12-08T11:20:00+08:00",
}
CASE_OUT: dict[str, Any] = {
    "id": CASE_ID,
    "number": "TJ140403202600128",
    "work_order_id": ORDER_ID,
    "county_code": "140403",
    "region_code": "140403",
    "status": "agreement_pending",
    "outcome": None,
    "mediator_staff_id": STAFF_ID,
    "staff_name": "郝秀兰",
    "mediator_chosen_by": "committee",
    "dispute_type": "neighbour",
    "source": "application",
    "court_procedure": None,
    "committee_id": COMMITTEE_ID,
    "due_date": "2026-12-30",
    "risk_flag": False,
    "opened_at": "2026-11-30T09:00:00+08:00",
    "concluded_at": None,
}
SESSION_OUT = {
    "id": SESSION_ID,
    **SESSION,
    "status": "held",
    "attendance": {APPLICANT_ID: True, RESPONDENT_ID: True},
    "notes": SESSION_RECORD["notes"],
    "held_at": "2026-12-08T10:40:00+08:00",
}
AGREEMENT_OUT = {
    "id": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
    "form": "written",
    **AGREEMENT,
    "drafted_at": "2026-12-08T11:00:00+08:00",
    "mediator_signed_at": None,
    "committee_sealed_at": None,
    "effective_at": None,
}
FOLLOW_UP_OUT = {
    "id": "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f",
    **FOLLOW_UP,
    "satisfied": None,
    "staff_id": STAFF_ID,
    "at": "2026-12-21T15:00:00+08:00",
}
RECUSAL_OUT = {"id": "8e9f0a1b-2c3d-4e5f-9a6b-7c8d9e0f1a2b", **RECUSAL, "at": "2026-12-02T10:00:00+08:00"}

CASE_DETAIL: dict[str, Any] = {
    **CASE_OUT,
    "summary": CASE_IN["summary"],
    "claims": CASE_IN["claims"],
    "referral_body": None,
    "close_reason": None,
    "routes_told": None,
    "deadline_basis": "一般纠纷一个月内调结",
    "deadline_warnings": [],
    "extensions": [],
    "received_at": "2026-11-30T09:00:00+08:00",
    "receipt": None,
    "confirmation": None,
    "allowed_actions": [
        "extend",
        "fail",
        "record_session",
        "recuse",
        "refuse",
        "report_risk",
        "sign_agreement",
    ],
    "parties": [PARTY_OUT],
    "sessions": [SESSION_OUT],
    "agreement": AGREEMENT_OUT,
    "follow_ups": [],
    "recusals": [],
}
LIAISON_OUT = {
    "id": LIAISON_ID,
    "case_id": CASE_ID,
    "case_number": "TJ140403202600128",
    "county_code": "140403",
    "region_code": "140403",
    "risk_kind": "violence",
    "description": RISK["description"],
    "reported_by": STAFF_ID,
    "reported_by_name": "郝秀兰",
    "reported_at": "2026-12-08T10:15:00+08:00",
    "status": "acknowledged",
    "acknowledged_by": "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e",
    "acknowledged_by_name": "王海燕",
    "acknowledged_at": "2026-12-08T10:32:00+08:00",
    "police_unit": LIAISON_ACK["police_unit"],
    "action_taken": LIAISON_ACK["action_taken"],
    "webhook": "delivered",
    "webhook_attempts": 1,
    "allowed_actions": [],
}
MEDIATOR_OUT = {
    "staff_id": STAFF_ID,
    "name": "郝秀兰",
    "role": "mediator",
    "county_code": "140403",
    "region_code": "140403001",
    "active": True,
    "signed_in": True,
    "on_leave_until": None,
    "slots": [[0, "08:30", "17:30"], [2, "08:30", "17:30"]],
    "available": True,
    "unavailable_reason": None,
}
COMMITTEE_OUT = {
    "id": COMMITTEE_ID,
    "code": "TWH140403001",
    "name": "潞州区英雄中路街道人民调解委员会",
    "kind": "street",
    "region_code": "140403001",
    "county_code": "140403",
}

_FIGURES = {"total": 128, "agreed": 112, "failed": 6, "refused": 4, "open": 6}
STATISTICS = {
    **_FIGURES,
    "success_rate": 0.949,
    "avg_duration_days": 11.4,
    "by_source": [{"code": "application", "name": "当事人申请", **_FIGURES}],
    "by_dispute_type": [{"code": "neighbour", "name": "邻里纠纷", **_FIGURES}],
    "by_court_procedure": [],
    "by_county": [{"county_code": "140403", "name": "潞州区", **_FIGURES}],
    "by_committee": [
        {"committee_id": COMMITTEE_ID, "name": COMMITTEE_OUT["name"], "kind": "street", **_FIGURES}
    ],
}
SWEEP = {"breached": ["TJ140403202600097"]}
AGREEMENT_HTML = "<!doctype html><html lang=zh><title>人民调解协议书</title>…</html>"
