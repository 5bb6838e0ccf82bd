"""When a statutory clock legally starts: the moment an application or a notice was RECEIVED, not
the moment staff typed it in.

- 法律援助法 Art 43: the 7 days run "自收到法律援助申请之日起"; Art 36: a lawyer within 3 days of
  receiving the notice (通知辩护). A paper application received on Friday and entered on Monday
  counts from Friday.
- 民法典 Art 201: a period counted in days starts the day AFTER the receipt, so day counts only need
  the receipt's local date; the time itself is kept (Art 39's 24 hours compare times, and the
  record must say what happened when).

The rules every service applies alike, so a counter clerk meets the same ones everywhere:
- a receipt is never in the future (a small allowance for a desk PC's clock, clamped to now);
- a receipt that starts the clock on an earlier day than the entry needs the staff member's written
  reason (it moves statutory clocks back), and the caller records it in the audit trail;
- correcting it later is allowed, with a reason, audited, and the open clocks are recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from libs.common.clock import CHINA_TZ
from libs.common.problems import FieldProblem

# A desk PC a little ahead of the server is not "the future"; anything more is a typing error.
CLOCK_SKEW = timedelta(minutes=2)
MIN_REASON = 4


@dataclass(frozen=True)
class Receipt:
    at: datetime  # when it was received (never after `now`)
    reason: str | None  # why it differs from the entry (required when backdated to an earlier day)
    entered: bool  # typed in by staff (or given by the notifying system), not "now" by default
    backdated: bool  # its local date is before the entry's: the clocks start earlier than the entry

    def record(self, *, by: str, entered_at: datetime, source: str) -> dict[str, Any]:
        """What a case keeps about its receipt (shown to staff and in the audit entry)."""
        return {
            "received_at": self.at.isoformat(),
            "reason": self.reason,
            "source": source,
            "entered_by": by,
            "entered_at": entered_at.isoformat(),
            "backdated": self.backdated,
        }


def local_day(at: datetime) -> date:
    return at.astimezone(CHINA_TZ).date()


def resolve(
    *,
    received_at: datetime | None,
    reason: str | None,
    now: datetime,
    field: str = "received_at",
    label: tuple[str, str] = ("收到时间", "received_at"),
    reason_field: str = "receipt_reason",
    default: datetime | None = None,
    default_field: str | None = None,
    default_label: tuple[str, str] | None = None,
    reason_required: bool = True,
) -> Receipt:
    """The receipt to count from: `received_at` if staff entered one, else `default` (e.g. the
    date on a notice), else now. 422 naming the field when it is in the future, or when it is
    backdated to an earlier day without a reason (`reason_required=False` for machine senders,
    whose own timestamp is the evidence)."""
    given, where, what = received_at, field, label
    if given is None and default is not None:
        given, where, what = default, default_field or field, default_label or label
    if given is not None and given.tzinfo is None:
        given = given.replace(tzinfo=CHINA_TZ)  # a counter writes local times
    if given is not None and given > now + CLOCK_SKEW:
        shown = now.astimezone(CHINA_TZ)
        raise FieldProblem(
            where,
            f"{what[0]}不能晚于当前时间（{shown:%Y-%m-%d %H:%M}），请核对后重新填写",
            f"{what[1]} cannot be in the future (now is {shown:%Y-%m-%d %H:%M} China time)",
            code="in_future",
        )
    at = min(given, now) if given is not None else now
    backdated = local_day(at) < local_day(now)
    text = (reason or "").strip() or None
    if backdated and reason_required and (text is None or len(text) < MIN_REASON):
        raise FieldProblem(
            reason_field,
            f"{what[0]}早于录入当日，期限将自该日起算，须写明原因（至少 {MIN_REASON} 个字，"
            "如：纸质申请周五收到、周一录入）",
            f"{what[1]} is before the day of entry, so the statutory clocks start earlier: "
            f"give the reason (at least {MIN_REASON} characters)",
            code="reason_required",
        )
    return Receipt(at=at, reason=text, entered=given is not None, backdated=backdated)


def correction(
    *,
    received_at: datetime,
    reason: str | None,
    now: datetime,
    field: str = "received_at",
    reason_field: str = "reason",
) -> Receipt:
    """A later correction: always with a reason, never in the future."""
    text = (reason or "").strip()
    if len(text) < MIN_REASON:
        raise FieldProblem(
            reason_field,
            f"更正收到时间须写明原因（至少 {MIN_REASON} 个字）",
            f"a correction of the receipt needs a reason (at least {MIN_REASON} characters)",
            code="reason_required",
        )
    return resolve(received_at=received_at, reason=text, now=now, field=field, reason_field=reason_field)
