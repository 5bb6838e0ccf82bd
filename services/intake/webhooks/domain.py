"""Pure rules of the webhook push-back: which order events an external system hears, how long a
failed delivery waits, when a subscription gives up. No I/O."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any, Literal

from libs.common.events import dispatch as dispatch_events
from libs.common.events import intake as intake_events

Kind = Literal["accepted", "assigned", "answered", "closed", "rated"]
KINDS: tuple[Kind, ...] = ("accepted", "assigned", "answered", "closed", "rated")
KIND_ZH = {"accepted": "受理", "assigned": "派单", "answered": "答复", "closed": "办结", "rated": "评价"}
FORMATS = ("lawline", "12345")


def kind_of(event_type: str, data: dict[str, Any]) -> Kind | None:
    """The push-back event an order event is, None for the many that are not one.
    accepted: intake filed it (workorder.created; an urge of an open order makes no new order);
    assigned: a handler accepted the offer (dispatch.assigned); answered: the requester was told
    the result — the callback (回拨) reached them, or a hotline answer on the call; closed (办结,
    cancelled included, with the result); rated (评价)."""
    if event_type == intake_events.WORKORDER_CREATED:
        return "accepted"
    if event_type == dispatch_events.ASSIGNED:
        return "assigned"
    if event_type == intake_events.WORKORDER_ANSWERED_ON_CALL:
        return "answered"
    if event_type == intake_events.WORKORDER_CALLBACK_RECORDED:
        reached = data.get("kind") == "callback" and data.get("outcome") == "reached"
        return "answered" if reached else None
    if event_type == intake_events.WORKORDER_CLOSED:
        return "closed"
    if event_type == intake_events.WORKORDER_EVALUATED:
        return "rated"
    return None


# The event types worth a look at all: everything else returns before any query.
INTERESTING = frozenset(
    {
        intake_events.WORKORDER_CREATED,
        dispatch_events.ASSIGNED,
        intake_events.WORKORDER_ANSWERED_ON_CALL,
        intake_events.WORKORDER_CALLBACK_RECORDED,
        intake_events.WORKORDER_CLOSED,
        intake_events.WORKORDER_EVALUATED,
        intake_events.WORKORDER_URGED,  # the merged request's `accepted` (record.py)
    }
)


def satisfaction(score: int | None) -> str | None:
    """满意度 in the 12345 three-grade form. GB/T 33358: a score of 2 or less is unsatisfied (and
    gets a return visit, services/intake/domain.UNSATISFIED_MAX_SCORE); 3 is 基本满意."""
    if score is None:
        return None
    if score <= 2:
        return "不满意"
    return "基本满意" if score == 3 else "满意"


def retry_delay(
    attempt: int, *, first: float, factor: float, cap: float, jitter: float = 0.0, rnd: float | None = None
) -> float:
    """Seconds to wait after the `attempt`-th failed try (1-based): first × factor^(attempt-1),
    capped; ±jitter spreads the retries of one receiver's many deliveries. The shape of
    libs.common.backoff.Backoff, computed from the attempt count because the state lives in a
    row, not in a loop."""
    delay = min(first * factor ** max(attempt - 1, 0), cap)
    if jitter:
        r = random.uniform(-1, 1) if rnd is None else rnd
        delay *= 1 + jitter * r
    return max(delay, 0.0)


def next_attempt(now: datetime, delay: float, deadline: datetime) -> datetime | None:
    """When to try again; None once the next try would fall after the delivery's deadline."""
    at = now + timedelta(seconds=delay)
    return None if now >= deadline or at > deadline else at


def should_disable(
    failing_since: datetime | None, now: datetime, after: timedelta, *, gave_up_since: datetime | None = None
) -> bool:
    """Every delivery of the subscription has failed since `failing_since` (a success resets it),
    for `after` (24 h) — or a delivery just gave up and nothing succeeded during its whole window
    (`gave_up_since`: its first attempt), which is the same 24 h of failure seen from one row."""
    if failing_since is None:
        return False
    return now - failing_since >= after or (gave_up_since is not None and failing_since <= gave_up_since)


def is_success(status_code: int | None) -> bool:
    return status_code is not None and 200 <= status_code < 300
