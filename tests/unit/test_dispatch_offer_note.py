"""The offer NOTIFY payload (service.offer_note): carries the offer for the SSE inboxes, and
stays under PostgreSQL's 8000-byte limit by leaving the offer out when it would not fit."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

from libs.common.clock import CHINA_TZ
from services.dispatch.models import Assignment, OrderSnapshot
from services.dispatch.service import NOTIFY_MAX_BYTES, offer_note

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=CHINA_TZ)


def _offer(reason: str) -> tuple[Assignment, OrderSnapshot]:
    order = OrderSnapshot(
        work_order_id=uuid.uuid4(), number="LW20261124000001", service_type="legal_aid", priority=0
    )
    a = Assignment(
        id=uuid.uuid4(),
        work_order_id=order.work_order_id,
        staff_id=uuid.uuid4(),
        service_point_id=uuid.uuid4(),
        status="offered",
        reason=reason,
        offered_at=NOW,
        expires_at=NOW + timedelta(minutes=30),
        kind="offer",
    )
    return a, order


def test_the_note_carries_the_offer_as_the_inbox_shows_it():
    a, order = _offer("沁县公共法律服务中心 · 李明：技能与熟练度匹配")
    note = json.loads(offer_note(a, order, staff_name="李明", point_name="沁县公共法律服务中心"))
    assert note["staff_id"] == str(a.staff_id) and note["assignment_id"] == str(a.id)
    offer = note["offer"]
    assert offer["staff_name"] == "李明" and offer["service_point_name"] == "沁县公共法律服务中心"
    assert offer["order_number"] == "LW20261124000001" and offer["priority"] is True
    assert offer["offered_at"] == "2026-11-24T02:00:00+00:00"  # UTC, as the database returns it


def test_a_note_too_long_for_notify_leaves_the_offer_out():
    a, order = _offer("转办：" + "很长的理由" * 1000)
    raw = offer_note(a, order, staff_name="李明", point_name="沁县公共法律服务中心")
    assert len(raw.encode()) < NOTIFY_MAX_BYTES
    assert json.loads(raw) == {"staff_id": str(a.staff_id), "assignment_id": str(a.id)}
