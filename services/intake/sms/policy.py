"""Pure decisions of the SMS module, apart from its I/O: which of an order's events calls for
which message, whether a number is a mobile, and whether a number has had its share."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from libs.common.events import intake as ev
from services.intake.sms.templates import CALLBACK_MISSED, ORDER_RECEIVED, RATE_REQUEST

_MOBILE = re.compile(r"1[3-9]\d{9}")


def template_for(event_type: str, data: dict) -> str | None:
    """The message an event of the order calls for (None: none). The order's state decides the
    rest (`wants`): a closure is a request to rate only when the order really closed unrated."""
    if event_type == ev.WORKORDER_CREATED:
        return ORDER_RECEIVED
    if event_type == ev.WORKORDER_CALLBACK_RECORDED:
        # 回拨 not reached: the citizen can call us back. A return visit (回访) is not chased by SMS:
        # the caller was already unhappy once, and a staff member calls again.
        if data.get("kind") == "callback" and data.get("outcome") != "reached":
            return CALLBACK_MISSED
        return None
    if event_type == ev.WORKORDER_CLOSED:
        return RATE_REQUEST
    return None


# When the use case says it happened (its clock: the envelope's own time is the wall clock).
_AT = {
    ev.WORKORDER_CREATED: "created_at",
    ev.WORKORDER_CALLBACK_RECORDED: "recorded_at",
    ev.WORKORDER_CLOSED: "closed_at",
}


def event_time(event_type: str, data: dict) -> datetime | None:
    raw = data.get(_AT.get(event_type, ""))
    return datetime.fromisoformat(raw) if isinstance(raw, str) else None


def wants(template: str, *, status: str, rated: bool) -> bool:
    if template == RATE_REQUEST:
        return status == "closed" and not rated  # 撤销 (cancelled) and merged orders are not rated
    return True


def mobile(phone_digits: str | None) -> bool:
    """A mainland mobile number (11 digits, 1[3-9]…): a landline cannot receive a text."""
    return bool(phone_digits and _MOBILE.fullmatch(phone_digits))


@dataclass(frozen=True)
class RateLimit:
    per_hour: int
    per_day: int


def limited(sent_at: Iterable[datetime], now: datetime, limit: RateLimit) -> str | None:
    """Why a further message to this number now would be one too many (None: it may go).
    `sent_at`: when each earlier message to the number went (or was claimed to go)."""
    times = [t for t in sent_at if t > now - timedelta(days=1)]
    if len(times) >= limit.per_day:
        return f"per_day: {len(times)} in the last 24 h (limit {limit.per_day})"
    last_hour = [t for t in times if t > now - timedelta(hours=1)]
    if len(last_hour) >= limit.per_hour:
        return f"per_hour: {len(last_hour)} in the last hour (limit {limit.per_hour})"
    return None


def is_opt_out_reply(content: str) -> bool:
    """The citizen's reply asking for no more: TD (退订), as carriers teach it, and its variants."""
    word = re.sub(r"[\s，。,.!！]", "", content or "").upper()
    return word in {"TD", "T", "退订", "0000", "QXDY"}
