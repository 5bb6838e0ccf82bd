"""Shared bodies and helpers for the intake integration tests."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from libs.common.clock import FrozenClock
from libs.common.embedded import free_port
from libs.common.testing.infra import serve
from services.intake.validation import id_check_digit

# 武乡县 (140429): the e2e flow asserts an exact counter inbox in 沁县, and these tests share its broker.
T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # Tuesday 09:30 in China


def make_id(region: str = "140429", born: str = "19650215", seq: str = "002") -> str:
    first = region + born + seq
    return first + id_check_digit(first)


def order(**over) -> dict:
    body = {
        "channel": "web",
        "requester": {"name": "王秀英", "phone": "13834567890"},
        "region_code": "140429003",
        "service_type": "legal_aid",
        "description": "老板拖欠我三个月工资一万八，想申请法律援助。",
    }
    body.update(over)
    return body


def clock() -> FrozenClock:
    return FrozenClock(T0)


@contextlib.asynccontextmanager
async def intake_without_broker(infra, clk: FrozenClock):  # type: ignore[no-untyped-def]
    """Intake on a fresh real database whose outbox is NOT relayed: these tests read the outbox
    table itself, and the ~100 orders they create must not reach the session broker, where a
    later test's fresh dispatch consumer group would replay them all (earliest offset)."""
    from services.intake.main import create_app

    url = await infra.fresh_database("intake")
    running = await serve(
        "intake", create_app(db_url=url, bootstrap=f"127.0.0.1:{free_port()}", clock=clk), credentials="none"
    )
    try:
        yield running
    finally:
        await running.stop()
