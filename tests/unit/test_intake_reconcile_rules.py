"""The reconciliation's pure rules (services/intake/domain.py): which announced orders await
dispatch's acknowledgement, when each is next due for re-announcement, and how dispatch's
answers move the order's status (never backwards) and read on its timeline (staff only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from libs.common.events import dispatch
from services.intake import domain, timeline
from services.intake.settings import IntakeSettings

T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
POLICY = IntakeSettings().reconcile_policy  # the defaults: 2 min, then 2, 4, 8 … capped at 30 min
MIN = timedelta(minutes=1)


def waiting(**over) -> domain.AckWait:  # type: ignore[no-untyped-def]
    base = dict(status="received", dispatched=True, announced_at=T0, routed_at=None)
    return domain.AckWait(**(base | over))


def test_defaults_are_two_minutes_then_doubling_to_thirty():
    assert POLICY.after == 2 * MIN and POLICY.backoff == 2 * MIN and POLICY.backoff_max == 30 * MIN
    waits = [domain.reemit_backoff(n, POLICY) for n in range(1, 9)]
    assert waits == [2 * MIN, 4 * MIN, 8 * MIN, 16 * MIN, 30 * MIN, 30 * MIN, 30 * MIN, 30 * MIN]
    # Never overflows, never gives up: the thousandth wait is the cap, too.
    assert domain.reemit_backoff(1000, POLICY) == 30 * MIN


@pytest.mark.parametrize(
    ("over", "awaits"),
    [
        ({}, True),
        ({"status": "offered"}, True),  # a status alone is no acknowledgement: routed_at is
        ({"routed_at": T0 + MIN}, False),
        ({"dispatched": False}, False),  # an urge or a call answered on the phone: never announced
        ({"status": "closed"}, False),
        ({"status": "merged"}, False),
        ({"announced_at": None}, False),
    ],
)
def test_which_orders_await_an_acknowledgement(over, awaits):
    assert domain.awaits_ack(waiting(**over)) is awaits
    assert (domain.next_check_at(waiting(**over), POLICY) is not None) is awaits


def test_first_check_is_after_the_grace_period():
    o = waiting()
    assert domain.next_check_at(o, POLICY) == T0 + 2 * MIN
    assert not domain.due_for_reemit(o, T0 + 2 * MIN - timedelta(seconds=1), POLICY)
    assert domain.due_for_reemit(o, T0 + 2 * MIN, POLICY)


def test_each_reemit_waits_longer_until_the_cap():
    at, reemits, times = T0 + 2 * MIN, 0, []
    for _ in range(7):
        o = waiting(reemits=reemits, last_reemit_at=at if reemits else None)
        nxt = domain.next_check_at(o, POLICY)
        assert nxt is not None
        assert not domain.due_for_reemit(o, nxt - timedelta(seconds=1), POLICY)
        assert domain.due_for_reemit(o, nxt, POLICY)
        if reemits:
            times.append((nxt - at) // MIN)
        at, reemits = nxt, reemits + 1
    assert times == [2, 4, 8, 16, 30, 30]


def test_an_acknowledged_order_is_never_due_however_late():
    o = waiting(reemits=3, last_reemit_at=T0, routed_at=T0 + 5 * MIN)
    assert not domain.due_for_reemit(o, T0 + timedelta(days=30), POLICY)


def test_any_dispatch_event_acknowledges_others_do_not():
    for t in (dispatch.OFFERED, dispatch.ESCALATED, dispatch.ASSIGNED, dispatch.ROUTING_CONFIRMED):
        assert domain.acknowledges(t)
    assert dispatch.OVERDUE.startswith(domain.DISPATCH_EVENT_PREFIX)
    assert not domain.acknowledges("cn.lawline.aid.case_opened.v1")
    assert not domain.acknowledges("cn.lawline.workorder.created.v1")


@pytest.mark.parametrize(
    ("current", "dispatch_state", "after"),
    [
        ("received", "offered", "offered"),  # the lost offered, recovered
        ("received", "escalated", "escalated"),
        ("received", "assigned", "assigned"),
        ("received", "new", "received"),  # dispatch has it, not decided yet: nothing to show
        ("received", "closed", "received"),  # intake closes its own orders (after the callback)
        ("assigned", "offered", "offered"),  # dispatch's newer word: offered again (after a 退单)
        ("in_progress", "assigned", "in_progress"),  # the case opened: a confirmation never undoes that
        ("offered", "assigned", "assigned"),
        ("received", None, "received"),
    ],
)
def test_routing_confirmed_says_where_dispatch_has_it(current, dispatch_state, after):
    data = {"status": dispatch_state} if dispatch_state else {}
    assert domain.next_status(current, dispatch.ROUTING_CONFIRMED, data) == after
    # A confirmation older than what was folded already (stale) moves nothing.
    assert domain.next_status(current, dispatch.ROUTING_CONFIRMED, data, stale=True) == current


def test_routing_confirmed_is_staff_only_on_the_timeline():
    step = timeline.step_for(
        dispatch.ROUTING_CONFIRMED, {"status": "offered", "service_point_name": "沁县公共法律服务中心"}
    )
    assert step.public is False and step.kind == "routing_confirmed"
    assert "沁县公共法律服务中心" in step.text and "已分派" in step.text
    bare = timeline.step_for(dispatch.ROUTING_CONFIRMED, {"status": "new"})
    assert bare.public is False and "待分派" in bare.text
