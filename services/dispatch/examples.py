"""Examples for dispatch's OpenAPI document (#17): 武乡县 (140429) routing one legal-aid order to
its county centre, valid against the schemas and the validators behind them
(tests/unit/test_openapi_examples.py). FastAPI drops `null` from the document, so a required
field that may be null is shown with a value."""

from __future__ import annotations

ORDER_ID = "3f1c0a8e-6a55-4f3e-9b8e-0d6f0f9f2a11"
STAFF_ID = "8c3e5a72-1d4b-4f6a-9e2c-7b5d3a1f0e94"
OTHER_STAFF_ID = "2a9f4c61-7e3b-4d58-b1a0-6c8d2e4f5a73"
POINT_ID = "d4b7e2a1-3c5f-4e8d-9a6b-1f2c3d4e5a6b"
CITY_POINT_ID = "0e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b"
ASSIGNMENT_ID = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
EXTENSION_ID = "7f8e9d0c-1b2a-4c3d-8e4f-5a6b7c8d9e0f"

ASSIGNMENT = {
    "id": ASSIGNMENT_ID,
    "work_order_id": ORDER_ID,
    "staff_id": STAFF_ID,
    "staff_name": "李建华",
    "staff_code": "S00042",
    "service_point_id": POINT_ID,
    "service_point_name": "武乡县公共法律服务中心",
    "status": "accepted",
    "reason": "岗位、技能与熟练度均符合 | role, skill and proficiency all match",
    "offered_at": "2026-11-24T09:37:00+08:00",
    "responded_at": "2026-11-24T09:52:00+08:00",
    "expires_at": "2026-11-24T11:37:00+08:00",
    "kind": "offer",
    "order_number": "LW20261124000123",
    "service_type": "legal_aid",
    "priority": True,
}

CANDIDATE = {
    "staff_id": STAFF_ID,
    "name": "李建华",
    "service_point": "武乡县公共法律服务中心",
    "on_duty": True,
    "next_duty": "2026-11-24T09:37:00+08:00",
    "score": [0, 0, 0, 0.25, -4, "2026-11-23T16:10:00+08:00"],
    "passed_over": "",
    "target": 0,
    "step": "strict",
}

DECISION = {
    "id": "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    "work_order_id": ORDER_ID,
    "rule": "legal-aid",
    "policy_version": "2026.11-2",
    "reason": "法律援助：县（区）中心援助岗，四优先（老年人）",
    "complexity": 2,
    "complexity_band": "simple",
    "complexity_reasons": ["劳动争议 | labour dispute"],
    "chosen_staff_id": STAFF_ID,
    "decided_at": "2026-11-24T09:37:00+08:00",
    "candidates": [CANDIDATE],
}

ORDER_CLOCK = {
    "work_order_id": ORDER_ID,
    "number": "LW20261124000123",
    "county_code": "140429",
    "service_point_id": POINT_ID,
    "handler_staff_id": STAFF_ID,
    "status": "assigned",  # the order's status (the assignment is "accepted")
    "priority": True,
    "clock": "reply",
    "due": "2026-12-01T23:59:59+08:00",
    "state": "at_risk",
    "supervision_level": 1,
    "warnings": [],
}

SUPERVISION_GROUP = {
    "county_code": "140429",
    "service_point_id": POINT_ID,
    "overdue": 0,
    "at_risk": 1,
    "orders": [ORDER_CLOCK],
}

QUEUE_ITEM = {
    "work_order_id": ORDER_ID,
    "number": "LW20261124000123",
    "county_code": "140429",
    "service_type": "legal_aid",
    "special_groups": ["elderly"],
    "urgency": "normal",
    "priority": True,
    "transfer_due": "2026-11-24T10:07:00+08:00",
    "escalated_at": "2026-11-24T10:07:00+08:00",
    "offers_made": 3,
}

HOURS = [{"weekday": d, "start": "08:30:00", "end": "17:30:00"} for d in range(5)]

POINT = {
    "id": POINT_ID,
    "code": "SP140429",
    "name": "武乡县公共法律服务中心",
    "tier": "county",
    "region_code": "140429",
    "county_code": "140429",
    "parent_id": CITY_POINT_ID,
    "windows": ["法律援助", "法律咨询", "人民调解", "公证", "投诉"],
    "opening_hours": HOURS,
    "active": True,
}

POINT_IN = {
    "code": "SP140429001",
    "name": "坡大乡公共法律服务工作站",
    "tier": "township",
    "region_code": "140429001",
    "parent_id": POINT_ID,
    "windows": ["法律咨询", "人民调解"],
    "opening_hours": HOURS,
}

POINT_PATCH = {"windows": ["法律咨询", "人民调解", "法律援助"], "active": True}

STAFF = {
    "id": STAFF_ID,
    "code": "S00042",
    "name": "李建华",
    "role": "aid_officer",
    "skills": ["legal_aid", "consultation"],
    "service_point_id": POINT_ID,
    "county_code": "140429",
    "capacity": 12,
    "active_load": 3,
    "levels": {"legal_aid": 4, "labor": 3},
    "languages": ["普通话", "武乡话"],
    "active": True,
    "signed_in_at": "2026-11-24T08:27:00+08:00",
    "signed_out_at": "2026-11-23T17:41:00+08:00",
}

STAFF_IN = {
    "code": "S00042",
    "name": "李建华",
    "role": "aid_officer",
    "skills": ["legal_aid", "consultation"],
    "levels": {"legal_aid": 4, "labor": 3},
    "languages": ["普通话", "武乡话"],
    "service_point_id": POINT_ID,
    "capacity": 12,
}

STAFF_PATCH = {"skills": ["legal_aid", "consultation", "mediation"], "capacity": 15}

STAFF_DETAIL = {
    **STAFF,
    "roster": [{"weekday": 0, "start": "08:30:00", "end": "17:30:00", "kind": "weekly"}],
    "exceptions": [
        {"day": "2026-11-28", "kind": "extra", "start": "09:00:00", "end": "12:00:00", "note": "周六值班"}
    ],
    "leave": [
        {
            "id": 3,
            "start_date": "2026-12-07",
            "end_date": "2026-12-09",
            "reason": "年休假",
            "cancelled": False,
        }
    ],
}

ROSTER = {
    "slots": [
        *({"weekday": d, "start": "08:30", "end": "17:30", "kind": "weekly"} for d in range(5)),
        {"weekday": 5, "start": "20:00", "end": "23:59", "kind": "on_call"},
    ]
}

ROSTER_EXCEPTION = {
    "day": "2026-11-28",
    "kind": "extra",
    "start": "09:00",
    "end": "12:00",
    "note": "周六值班",
}
LEAVE = {"start_date": "2026-12-07", "end_date": "2026-12-09", "reason": "年休假"}

CALENDAR_IN = {
    "holidays": ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"],
    "workdays": ["2026-09-27", "2026-10-10"],
}
CALENDAR = {"year": 2026, "source": "table", **CALENDAR_IN, "warnings": []}

EXTENSION = {
    "id": EXTENSION_ID,
    "work_order_id": ORDER_ID,
    "order_number": "LW20261124000123",
    "county_code": "140429",
    "status": "approved",
    "reason": "需调取劳动仲裁档案，并与人社局会商",
    "requested_by": STAFF_ID,
    "requested_by_name": "李建华",
    "requested_at": "2026-11-28T10:00:00+08:00",
    "reply_due_before": "2026-12-01T23:59:59+08:00",
    "reply_due_after": "2026-12-15T23:59:59+08:00",
    "decided_by": OTHER_STAFF_ID,
    "decided_by_name": "王志强",
    "decided_at": "2026-11-28T15:30:00+08:00",
    "decision_reason": "确需调取档案，同意延期",
    "allowed_actions": [],
}

MEMBER = {
    "staff_id": STAFF_ID,
    "code": "S00042",
    "name": "李建华",
    "role": "aid_officer",
    "on_duty": True,
    "next_duty_at": "2026-11-24T09:37:00+08:00",
    "load": 3,
    "capacity": 12,
}

POINT_QUEUE = {
    "service_point_id": POINT_ID,
    "name": "武乡县公共法律服务中心",
    "tier": "county",
    "members": [MEMBER],
    "open": [ASSIGNMENT],
}
