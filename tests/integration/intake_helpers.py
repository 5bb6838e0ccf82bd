"""Shared bodies and helpers for the intake integration tests."""

from __future__ import annotations

from datetime import UTC, datetime

from libs.common.clock import FrozenClock
from services.intake.validation import id_check_digit

T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # Tuesday 09:30 in China


def make_id(region: str = "140430", born: str = "19650215", seq: str = "002") -> str:
    first = region + born + seq
    return first + id_check_digit(first)


def order(**over) -> dict:
    body = {
        "channel": "web",
        "requester": {"name": "王秀英", "phone": "13834567890"},
        "region_code": "140430003",
        "service_type": "legal_aid",
        "description": "老板拖欠我三个月工资一万八，想申请法律援助。",
    }
    body.update(over)
    return body


def clock() -> FrozenClock:
    return FrozenClock(T0)
