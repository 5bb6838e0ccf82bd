"""Examples for aid's OpenAPI document (#17): a real-shaped case in 长治市 — a migrant worker in
沁县 claiming unpaid wages, and a court's notice for a minor defendant in 潞州区. Pure data: the
schemas put them on their models, tests/unit/test_aid_mediation_examples.py validates each
request example with the model's own validators (ID check digits included)."""

from __future__ import annotations

from typing import Any

from libs.common.openapi_examples import examples, ok  # noqa: F401  (re-exported: ex.examples, ex.ok)

CASE_ID = "3f1c2a9e-6b7d-4e21-9a3c-5d8e7f601234"
ORDER_ID = "8a2b4c6d-1e3f-4a5b-8c7d-9e0f1a2b3c4d"
LAWYER_ID = "5b6c7d8e-9f01-4a2b-8c3d-4e5f6a7b8c9d"
STAFF_ID = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"

APPLICANT = {
    "name": "张桂芳",
    "id_number": "140430199008080263",
    "birth_date": "1990-08-08",
    "gender": "female",
    "phone": "13935501234",
    "address": "山西省长治市沁县定昌镇南街12号",
}
PROXY = {"kind": "near_relative", "name": "王建国", "relation": "配偶"}
MATTER = {
    "category": "labour_pay",
    "cause": "追索劳动报酬",
    "stage": "仲裁",
    "opposing_parties": ["长治市某建筑工程有限公司"],
    "description": "2026年5月至10月在沁县某工地务工，被拖欠工资共计38600元，多次催要未果。",
    "grave_penalty": False,
    "limitation_due": None,
    "urgent_preservation": False,
}
MEANS = {
    "household_size": 3,
    "monthly_income": 2400,
    "assets": 12000,
    "verification": "honesty_commitment",
    "verified": False,
}
ATTACHMENT = {"kind": "migrant_work_proof", "name": "工地考勤记录及工友证言"}
ATTACHMENTS = [
    {"kind": "identity", "name": "居民身份证复印件"},
    {"kind": "matter_materials", "name": "欠薪欠条及微信催款记录"},
    ATTACHMENT,
]
APPLICATION = {
    "applicant": APPLICANT,
    "matter": MATTER,
    "requested_form": "arbitration_agency",
    "exemption": "migrant_worker",
    "special_groups": ["migrant_worker", "women"],
    "attachments": ATTACHMENTS,
    "accept_with_missing": False,
}
WINDOW_APPLICATION = {**APPLICATION, "region_code": "140430"}
SUPPLEMENT = {
    "attachments": [{"kind": "hardship_statement", "name": "经济困难状况说明表（已签字）"}],
    "means": MEANS,
}
DECISION = {
    "decision": "grant",
    "reasons": "属第三十一条第五项事项；申请人为请求支付劳动报酬的进城务工人员，免予核查经济困难状况（第四十二条）。",
}
ASSIGN = {"lawyer_id": LAWYER_ID}
LAWYER_ACCEPT = {
    "firm_consent_by": "山西沁州律师事务所 刘主任",
    "firm_consent_at": "2026-11-25T09:30:00+08:00",
}
REASON = {"reason": "申请人已与用人单位达成和解，申请撤回法律援助申请。"}
PROGRESS = {"note": "已向沁县劳动人事争议仲裁委员会提交仲裁申请书，定于12月10日开庭。"}
CLOSE = {
    "documents": ["仲裁申请书", "仲裁裁决书", "代理词"],
    "report": "经仲裁庭审理，裁决被申请人支付拖欠工资38600元，受援人请求全部得到支持，案件办结。",
    "outcome": "仲裁裁决支持全部请求",
}
SUBSIDY = {"amount": 1500, "standard": "长治市法律援助案件补贴标准（仲裁代理）"}
RETURN_VISIT = {"satisfaction": "satisfied", "note": "电话回访，受援人对承办律师的服务表示满意。"}
TERMINATE = {"cause": "own_lawyer", "reason": "受援人已自行委托律师代理本案，法律援助终止。"}
OBJECTION_DECISION = {"outcome": "accept", "reason": "申请人补充了务工证明，符合免予核查条件，异议成立。"}
DEFENDANT = {
    "name": "赵小军",
    "id_number": "140403200906050038",
    "birth_date": "2009-06-05",
    "gender": "male",
    "address": "山西省长治市潞州区英雄南路88号",
}
NOTIFICATION = {
    "body_kind": "court",
    "body_name": "长治市潞州区人民法院",
    "document_number": "（2026）晋0403刑初215号",
    "notified_at": "2026-11-24T10:00:00+08:00",
    "region_code": "140403",
    "ground": "minor",
    "defendant": DEFENDANT,
    "cause": "涉嫌盗窃罪",
    "stage": "审判",
    "receipt_reason": "纸质通知书由法院邮寄送达，收到后次日录入",
}
RECEIPT = {
    "received_at": "2026-11-27T16:20:00+08:00",
    "reason": "申请人周五下午在窗口递交纸质申请，周一录入系统",
}

CLOCK = {
    "name": "assignment",
    "article": "法律援助法第四十三条、第三十六条",
    "started_on": "2026-11-24",
    "due": "2026-11-27",
    "warnings": [],
    "days": 3,
    "counts_from": None,
    "met_at": "2026-11-25T10:12:00+08:00",
    "cancelled_at": None,
    "breached_at": None,
}
CASE: dict[str, Any] = {
    "id": CASE_ID,
    "number": "FY140430202600042",
    "work_order_id": ORDER_ID,
    "county_code": "140430",
    "region_code": "140430",
    "status": "in_progress",
    "kind": "application",
    "source": "work_order",
    "handler_staff_id": STAFF_ID,
    "staff_name": "李文娟",
    "applicant_name": "张桂芳",
    "id_number_masked": "1404**********0263",
    "phone_masked": "139****1234",
    "applicant": {
        "name": "张桂芳",
        "gender": "female",
        "birth_date": "1990-08-08",
        "address": APPLICANT["address"],
    },
    "proxy": None,
    "matter": MATTER,
    "requested_form": "arbitration_agency",
    "means": None,
    "exemption": "migrant_worker",
    "special_groups": ["migrant_worker", "women"],
    "attachments": ATTACHMENTS,
    "eligibility": {
        "eligible": True,
        "in_scope": True,
        "means_test": "exempt_art42",
        "basis": ["法律援助法第三十一条第五项", "法律援助法第四十二条第三项"],
        "problems": [],
    },
    "missing_items": [],
    "deferred_items": [],
    "supplement_due": None,
    "provide_first": False,
    "grave_penalty": False,
    "decision": {
        "outcome": "grant",
        "basis": ["法律援助法第三十一条第五项"],
        "decided_at": "2026-11-24T15:00:00+08:00",
        "by": "李文娟",
    },
    "notification": None,
    "lawyer_id": LAWYER_ID,
    "lawyer_name": "刘志强",
    "lawyer_firm": "山西沁州律师事务所",
    "assignment": {
        "rule": "rotation",
        "reason": "按轮换顺序指派",
        "rejected": [],
        "assigned_at": "2026-11-25T09:00:00+08:00",
        "assigned_by": "李文娟",
    },
    "closure": None,
    "subsidy": None,
    "return_visit": None,
    "termination": None,
    "objection": None,
    "received_on": "2026-11-23",
    "received_at": "2026-11-23T09:40:00+08:00",
    "receipt": {
        "received_at": "2026-11-23T09:40:00+08:00",
        "reason": None,
        "source": "work_order",
        "entered_by": "system",
        "entered_at": "2026-11-23T09:41:05+08:00",
        "backdated": False,
        "corrections": [],
    },
    "opened_at": "2026-11-23T09:41:05+08:00",
    "archived_at": None,
    "allowed_actions": ["close", "correct_receipt", "report_progress", "terminate"],
    "clocks": [CLOCK],
}
LOG = {
    "action": "assign",
    "from_state": "granted",
    "to_state": "assigned",
    "actor": "李文娟",
    "reason": "按轮换顺序指派",
    "details": {"lawyer_id": LAWYER_ID, "rule": "rotation"},
    "at": "2026-11-25T09:00:00+08:00",
}

# Routes that answer plain JSON rather than a model.
RULES = {
    "matters": {"labour_pay": "请求确认劳动关系或者支付劳动报酬", "work_injury": "请求工伤事故人身损害赔偿"},
    "no_means_test": {"good_samaritan": "因见义勇为行为主张相关民事权益"},
    "exemptions": {
        "migrant_worker": {
            "label": "请求支付劳动报酬或工伤赔偿的进城务工人员",
            "proofs": ["migrant_work_proof"],
        }
    },
    "attachments": {"identity": "申请人身份证明", "migrant_work_proof": "务工及劳动关系证明"},
    "termination_causes": {"own_lawyer": "受援人自行委托律师或者其他代理人"},
    "notification_grounds": {"minor": "未成年人（第二十五条第一款第一项）"},
    "threshold": {"monthly_income_per_capita": 1980, "assets_max": 60000},
    "lawyer_choice_counties": ["140403", "140430"],
}
LAWYERS = [
    {"id": LAWYER_ID, "name": "刘志强", "firm": "山西沁州律师事务所", "practice_years": 8, "active": True}
]
SWEEP = {"withdrawn": [CASE_ID], "breached": [{"case_id": ORDER_ID, "clock": "decision"}]}
DOCUMENT_HTML = "<!doctype html><html lang=zh><title>给予法律援助决定书</title>…</html>"
