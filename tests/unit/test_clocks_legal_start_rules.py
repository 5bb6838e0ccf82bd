"""Pure rules behind issue #15 items 5 and 6: when a clock legally starts (libs/common/receipt.py),
recomputing deadlines (aid, mediation), the reply extension (dispatch clocks) and the webhook's
backoff and signature. No I/O."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import date, datetime, timedelta

import pytest

from libs.common.calendar import WorkCalendar, YearSchedule
from libs.common.clock import CHINA_TZ
from libs.common.problems import FieldProblem
from libs.common.receipt import correction, resolve
from services.aid import domain as aid
from services.aid.settings import get_rules
from services.dispatch import clocks
from services.dispatch.policy import ClockRule
from services.mediation import domain as med
from services.mediation.models import WebhookDelivery
from services.mediation.settings import MediationSettings
from services.mediation.webhook import backoff, signed_headers

MONDAY = datetime(2026, 3, 9, 10, 0, tzinfo=CHINA_TZ)
FRIDAY = datetime(2026, 3, 6, 16, 30, tzinfo=CHINA_TZ)


def problem(fn, **kw) -> dict:  # type: ignore[no-untyped-def]
    with pytest.raises(FieldProblem) as exc:
        fn(**kw)
    (err,) = exc.value.errors
    return err


def test_a_receipt_defaults_to_now_and_a_backdated_one_needs_a_reason():
    r = resolve(received_at=None, reason=None, now=MONDAY)
    assert (r.at, r.entered, r.backdated) == (MONDAY, False, False)
    err = problem(resolve, received_at=FRIDAY, reason=None, now=MONDAY)
    assert err["field"] == "receipt_reason" and err["code"] == "reason_required"
    assert (
        problem(resolve, received_at=FRIDAY, reason="周五", now=MONDAY)["field"] == "receipt_reason"
    )  # too short
    r = resolve(received_at=FRIDAY, reason="  纸质申请周五收到  ", now=MONDAY)
    assert r.at == FRIDAY and r.backdated and r.reason == "纸质申请周五收到"
    # Earlier the same day moves no day count: no reason asked (民法典 Art 201 counts days).
    assert not resolve(received_at=MONDAY - timedelta(hours=2), reason=None, now=MONDAY).backdated
    # A time without an offset is China time (what a counter types).
    assert resolve(
        received_at=datetime(2026, 3, 9, 8, 0), reason=None, now=MONDAY
    ).at.utcoffset() == timedelta(hours=8)


def test_a_receipt_is_never_in_the_future():
    err = problem(resolve, received_at=MONDAY + timedelta(days=1), reason="任意原因说明", now=MONDAY)
    assert err["field"] == "received_at" and err["code"] == "in_future"
    assert "不能晚于当前时间" in err["message"] and "future" in err["message_en"]
    # A desk PC a minute ahead is clamped to now, not refused.
    assert resolve(received_at=MONDAY + timedelta(seconds=60), reason=None, now=MONDAY).at == MONDAY


def test_a_notice_counts_from_its_own_time_unless_staff_give_the_receipt():
    kw = dict(default=FRIDAY, default_field="notified_at", default_label=("通知时间", "notified_at"))
    err = problem(resolve, received_at=None, reason=None, now=MONDAY, **kw)
    assert err["field"] == "receipt_reason"  # staff entering an old notice say why
    assert resolve(received_at=None, reason=None, now=MONDAY, reason_required=False, **kw).at == FRIDAY
    future = problem(resolve, received_at=None, reason=None, now=FRIDAY - timedelta(days=1), **kw)
    assert future["field"] == "notified_at"


def test_a_correction_always_needs_a_reason():
    assert problem(correction, received_at=FRIDAY, reason="", now=MONDAY)["field"] == "reason"
    assert correction(received_at=FRIDAY, reason="登记簿显示周五收件", now=MONDAY).at == FRIDAY


CAL_2027 = WorkCalendar({2027: YearSchedule({date(2027, 1, 1), date(2027, 1, 4)}, {date(2027, 1, 9)})})


def test_aid_clocks_keep_their_period_and_know_which_years_they_read():
    rules = get_rules()
    assert aid.clock_days("decision", None, rules) == 7 and aid.clock_days("supplement", None, rules) == 5
    assert aid.clock_days("decision", 9, rules) == 9
    assert aid.touches_year(date(2026, 12, 28), date(2027, 1, 4), 2027)
    assert not aid.touches_year(date(2026, 3, 2), date(2026, 3, 9), 2027)
    # 民法典 Art 203: a due date on the newly entered holiday rolls to the next working day.
    assert aid.clock_due(CAL_2027, "decision", date(2026, 12, 28)).due == date(2027, 1, 5)
    assert "correct_receipt" in aid.allowed_actions("under_review") and aid.allowed_actions("archived") == []


def test_mediation_due_reapplies_every_extension_from_the_receipt():
    due, basis, steps = med.mediation_due(
        "court", "post_filing_summary", date(2026, 12, 28), [{"days": 7, "reason": "双方同意"}], CAL_2027
    )
    # 7 days → Mon 4 Jan (a holiday here) → Tue 5 Jan; + 7 → Tue 12 Jan.
    assert (due.due, due.warnings) == (date(2027, 1, 12), [])
    assert steps == [{"days": 7, "reason": "双方同意", "from": "2027-01-05", "to": "2027-01-12"}]
    assert "7 日" in basis
    assert "recompute_deadline" not in med.allowed_actions("mediating")
    assert "correct_receipt" in med.allowed_actions("mediating") and med.allowed_actions("closed") == [
        "return_visit"
    ]


def test_the_reply_extension_rules():
    hotline, statutory = ClockRule(), ClockRule(reply_workdays=7, reply_natural_days=True)
    now, due = MONDAY, MONDAY + timedelta(days=2)
    assert clocks.extension_problem(hotline, assigned=True, now=now, due=due) is None
    zh, en = clocks.extension_problem(statutory, assigned=True, now=now, due=due)
    assert "第四十三条" in zh and "statutory" in en
    assert "尚未" in clocks.extension_problem(hotline, assigned=False, now=now, due=due)[0]
    assert "届满" in clocks.extension_problem(hotline, assigned=True, now=due, due=due)[0]
    assert clocks.running_clock(status_="assigned", transfer_due=now, reply_due=due, extended=True) == (
        "max",
        due,
    )
    assert clocks.running_clock(status_="assigned", transfer_due=now, reply_due=due)[0] == "reply"
    assert (
        clocks.running_clock(status_="offered", transfer_due=now, reply_due=due, extended=True)[0]
        == "transfer"
    )


def test_webhook_backoff_doubles_to_a_ceiling_and_the_body_is_signed():
    s = MediationSettings(webhook_retry_seconds=5, webhook_retry_max_seconds=60, police_webhook_secret="k")
    assert [backoff(n, s).total_seconds() for n in (1, 2, 3, 4, 5)] == [5, 10, 20, 40, 60]
    d = WebhookDelivery(liaison_id=uuid.uuid4(), attempts=2)
    h = signed_headers(d, b'{"a":1}', s)
    assert h["Idempotency-Key"] == str(d.liaison_id) and h["X-Lawline-Attempt"] == "3"
    assert h["X-Lawline-Signature"] == "sha256=" + hmac.new(b"k", b'{"a":1}', hashlib.sha256).hexdigest()
    assert "X-Lawline-Signature" not in signed_headers(d, b"{}", MediationSettings())
