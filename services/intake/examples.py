"""Examples for intake's OpenAPI document (#17): one 长治市 caller's order, from the call to the
citizen's tracking page, valid against the schemas and the validators behind them
(tests/unit/test_openapi_examples.py). FastAPI drops `null` from the document, so a required
field that may be null is shown with a value."""

from __future__ import annotations

ORDER_ID = "3f1c0a8e-6a55-4f3e-9b8e-0d6f0f9f2a11"
# 沁县 (140430), born 1965-02-15: the check digit is 4 (GB 11643, ISO 7064 MOD 11-2).
ID_NUMBER = "140430196502150024"

EXAMPLE_ORDER = {
    "channel": "hotline",
    "requester": {"name": "王秀英", "phone": "13834567890", "id_number": ID_NUMBER},
    "region_code": "140430003",
    "description": "老板拖欠我三个月工资一万八，想申请法律援助。",
    "hotline": {
        "call_id": "CALL-20261124-0001",
        "caller_number": "13834567890",
        "operator_id": "op-017",
        "call_started_at": "2026-11-24T09:30:00+08:00",
        "call_ended_at": "2026-11-24T09:36:00+08:00",
    },
}

CREATED = {
    "id": ORDER_ID,
    "number": "LW20261124000123",
    "status": "received",
    "service_type": "legal_aid",
    "domain": "labor",
    "urgency": "normal",
    "warnings": [],
}

TASK = {
    "id": "5b2d7c1e-8f3a-4d6b-9c0e-1a2b3c4d5e6f",
    "work_order_id": ORDER_ID,
    "kind": "callback",
    "status": "done",
    "due_at": "2026-12-01T23:59:59+08:00",
    "overdue": False,
    "attempts": [
        {"at": "2026-11-26T10:05:00+08:00", "outcome": "reached", "note": "已告知办理进度", "by": "op-017"}
    ],
    "outcome": "reached",
    "completed_at": "2026-11-26T10:05:00+08:00",
}

ORDER = {
    **CREATED,
    "status": "in_progress",
    "channel": "hotline",
    "region_code": "140430003",
    "county_code": "140430",
    "requester_name": "王秀英",
    "requester_phone_masked": "138****7890",
    "requester_id_masked": "1404**********0024",
    "description": "老板拖欠我三个月工资一万八，想申请法律援助。",
    "special_groups": ["elderly", "migrant_worker"],
    "classification": {"by": "auto", "service_confidence": 0.75, "evidence": {"service_type": ["法律援助"]}},
    "channel_details": {
        "hotline": {"call_id": "CALL-20261124-0001", "operator_id": "op-017"},
        "region_path": {"township": "140430003", "county": "140430"},
    },
    "urge_count": 0,
    "due_at": "2026-12-01T23:59:59+08:00",
    "created_at": "2026-11-24T09:36:00+08:00",
    "tasks": [TASK],
    "timeline": [
        {
            "at": "2026-11-24T09:36:00+08:00",
            "kind": "received",
            "text": "已受理（12348 热线），工单号 LW20261124000123",
            "text_en": "Received (12348 hotline), order number LW20261124000123",
        }
    ],
}

LIST_ITEM = {
    "id": ORDER_ID,
    "number": "LW20261124000123",
    "status": "assigned",
    "channel": "hotline",
    "service_type": "legal_aid",
    "domain": "labor",
    "region_code": "140430003",
    "county_code": "140430",
    "requester_name": "王秀英",
    "requester_phone_masked": "138****7890",
    "special_groups": ["elderly", "migrant_worker"],
    "urgency": "normal",
    "urge_count": 0,
    "created_at": "2026-11-24T09:36:00+08:00",
    "due_at": "2026-12-01T23:59:59+08:00",
    "overdue": False,
}

TRACK = {
    "number": "LW20261124000123",
    "status": "closed",
    "status_label": "已办结",
    "service_type_label": "法律援助",
    "created_at": "2026-11-24T09:36:00+08:00",
    "closed_at": "2026-12-05T16:20:00+08:00",
    "can_rate": True,
    "timeline": [
        {
            "at": "2026-11-24T09:36:00+08:00",
            "kind": "received",
            "text": "已受理（12348 热线），工单号 LW20261124000123",
            "text_en": "Received (12348 hotline), order number LW20261124000123",
        },
        {"at": "2026-12-05T16:20:00+08:00", "kind": "closed", "text": "已办结：援助律师已代理劳动仲裁"},
    ],
}

CONTACT = {
    "work_order_id": ORDER_ID,
    "number": "LW20261124000123",
    "requester_name": "王秀英",
    "phone": "13834567890",
    "id_number": ID_NUMBER,
}

CLASSIFIED = {
    "service_type": "legal_aid",
    "domain": "labor",
    "service_confidence": 0.75,
    "domain_confidence": 0.86,
    "evidence": {"service_type": ["法律援助", "援助"], "domain": ["工资", "老板", "拖欠"]},
    "special_groups": ["migrant_worker"],
    "urgency": "normal",
    "urgency_signals": [],
}

PUBLIC_REQUEST = {
    "requester": {"name": "王秀英", "phone": "13834567890"},
    "region_code": "140430003",
    "description": "老板拖欠我三个月工资一万八，想申请法律援助。",
    "special_groups": ["migrant_worker"],
}

PUBLIC_CREATED = {
    "number": "LW20261124000123",
    "status": "received",
    "phone_suffix": "7890",
    "tracking_code": "LW20261124000123-7890",
    "notices": [],
}
