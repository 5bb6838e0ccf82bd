"""Complexity scoring and the service/statutory clocks, without I/O."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from libs.common.calendar import WorkCalendar, YearSchedule
from libs.common.clock import CHINA_TZ
from services.dispatch import clocks
from services.dispatch import complexity as cx
from services.dispatch.policy import Rung, default_policy


@pytest.mark.parametrize(
    "text, expected",
    [
        ("老板拖欠我三个月工资，一共一万八", [18_000]),
        ("欠款1.5万元，另有3000元押金", [15_000, 3_000]),
        ("赔了我三千块", [3_000]),
        ("没有提到钱", []),
    ],
)
def test_amounts_in_free_text(text, expected):
    assert cx.amounts(text) == expected


def test_complexity_reasons_add_up_and_are_readable():
    c = cx.score(
        service_type="mediation",
        domain="land",
        special_groups=["elderly"],
        description="全村几十户为占地补偿集体上访，有人扬言动刀，涉及金额二十万元",
        prior_orders=3,
    )
    # mediation 1 + land 2 + special 1 + group 4 + violence 4 + amount ≥ 10万 2 + prior (capped) 2
    assert c.score == 16 and len(c.reasons) == 7 and c.amount == 200_000
    assert cx.score(service_type="consultation").score == 0
    assert (
        default_policy().band(0) == "simple"
        and default_policy().band(4) == "medium"
        and default_policy().band(16) == "complex"
    )


POLICY = default_policy()
CAL = WorkCalendar()


def at(y, m, d, h=10, mi=0):  # type: ignore[no-untyped-def]
    return datetime(y, m, d, h, mi, tzinfo=CHINA_TZ)


def test_hotline_clocks_transfer_one_working_day_reply_five_max_fifteen():
    # Friday 2026-11-27 10:00 → transfer by Monday 10:00; reply after 5 working days (Fri 12-04).
    c = clocks.order_clocks(
        received_at=at(2026, 11, 27),
        service_type="consultation",
        urgency="normal",
        policy=POLICY,
        calendar=CAL,
    )
    assert c.transfer_due == at(2026, 11, 30)
    assert c.reply_due == at(2026, 12, 4)
    assert c.max_due == at(2026, 12, 18) and c.warnings == []


def test_urgent_order_must_be_transferred_within_one_hour():
    c = clocks.order_clocks(
        received_at=at(2026, 11, 28, 23),
        service_type="consultation",
        urgency="urgent",
        policy=POLICY,
        calendar=CAL,
    )
    assert c.transfer_due == at(2026, 11, 29, 0)


def test_legal_aid_decision_in_seven_natural_days_rolls_past_holiday_and_warns_for_2027():
    # 法律援助法 Art 43 + 民法典 Art 201/203: received 12-27, day 7 = 2027-01-03 (Sunday) → Monday 01-04.
    c = clocks.order_clocks(
        received_at=at(2026, 12, 27), service_type="legal_aid", urgency="normal", policy=POLICY, calendar=CAL
    )
    assert c.reply_due.date() == date(2027, 1, 4)
    assert c.warnings and "2027" in c.warnings[0]
    # Once an admin enters 2027 (say 1–3 Jan holiday, 4 Jan a holiday too), the due date moves and the warning goes.
    cal = WorkCalendar({2027: YearSchedule(holidays={date(2027, 1, 1), date(2027, 1, 4)})})
    c = clocks.order_clocks(
        received_at=at(2026, 12, 27), service_type="legal_aid", urgency="normal", policy=POLICY, calendar=cal
    )
    assert c.reply_due.date() == date(2027, 1, 5) and c.warnings == []


def test_make_up_workday_counts_as_a_working_day():
    sat = date(2027, 2, 6)
    cal = WorkCalendar({2027: YearSchedule(workdays={sat})})
    assert cal.add_workdays(date(2027, 2, 5), 1).due == sat


def test_status_and_escalation_ladder():
    start, due = at(2026, 11, 24), at(2026, 11, 25)
    assert clocks.status(start + timedelta(hours=1), start, due, 0.8) == "ok"
    assert clocks.status(start + timedelta(hours=20), start, due, 0.8) == "at_risk"
    assert clocks.status(due, start, due, 0.8) == "overdue"
    ladder = (Rung(1, 0, "service_point"), Rung(2, 24, "county"), Rung(3, 72, "city"))
    assert clocks.rung(due - timedelta(minutes=1), due, ladder) is None
    assert clocks.rung(due + timedelta(hours=1), due, ladder).to == "service_point"
    assert clocks.rung(due + timedelta(hours=30), due, ladder).to == "county"
    assert clocks.rung(due + timedelta(days=5), due, ladder).level == 3


def test_running_clock_switches_from_transfer_to_reply_on_assignment():
    t, r = at(2026, 11, 25), at(2026, 12, 1)
    assert clocks.running_clock(status_="offered", transfer_due=t, reply_due=r) == ("transfer", t)
    assert clocks.running_clock(status_="assigned", transfer_due=t, reply_due=r) == ("reply", r)
