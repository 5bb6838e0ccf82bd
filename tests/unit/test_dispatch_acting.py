"""Never offer to someone who cannot act (acting.py), and the 7×24 on-call tier that can."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from libs.common import demo_network
from libs.common.auth import ROLES
from libs.common.calendar import WorkCalendar
from libs.common.clock import CHINA_TZ
from libs.common.staff_roles import STAFF_LOGIN_ROLES
from services.dispatch import access, domain
from services.dispatch.acting import OFFER_ROLES, can_act_on_offer
from services.dispatch.domain import OrderView, Slot, StaffView, decide
from services.dispatch.policy import Target, default_policy, parse_policy

SUNDAY_2AM = datetime(2026, 11, 29, 2, 0, tzinfo=CHINA_TZ)
TUESDAY_10 = datetime(2026, 11, 24, 10, 0, tzinfo=CHINA_TZ)
POLICY, CAL = default_policy(), WorkCalendar()  # decide() is handed both, as dispatch does
ALL_WEEK = [Slot(d, time(0), time.max) for d in range(7)]


def staff(sid: str, role: str, tier: str = "city", skills=("consultation", "on_call"), **kw) -> StaffView:  # type: ignore[no-untyped-def]
    region = {"city": "140400", "county": "140430"}[tier]
    values = dict(
        name=f"name-{sid}", role=role, skills=frozenset(skills), service_point_id=f"sp-{region}",
        service_point_name=f"point {region}", tier=tier, county_code=None if tier == "city" else "140430",
        capacity=10, load=0, slots=list(ALL_WEEK), region_code=region,
    )  # fmt: skip
    values.update(kw)
    return StaffView(id=sid, **values)  # type: ignore[arg-type]


def why(d: domain.Decision, sid: str) -> str | None:
    return next(c.passed_over for c in d.candidates if c.staff_id == sid)


# ---- the rule itself ----------------------------------------------------------------


@pytest.mark.parametrize(
    "role, can",
    [
        ("operator", False),
        ("volunteer", False),
        ("lawyer", True),
        ("aid_officer", True),
        ("mediator", True),
        ("legal_worker", True),
        ("notary", True),
        ("counter_staff", True),
        ("astronaut", False),
    ],
)
def test_who_can_act_on_an_offer(role, can):
    assert all(can_act_on_offer(role, kind) is can for kind in ("offer", "follow_up", "transfer"))


def test_an_account_given_other_roles_is_judged_by_them():
    assert can_act_on_offer("operator", roles=["operator", "aid_officer"])
    assert not can_act_on_offer("lawyer", roles=["supervisor"])


def test_the_access_rules_of_the_offer_routes_are_the_same_roles():
    """The inbox, accept, reject and return routes allow exactly the roles routing offers to."""
    for route in (
        "GET /v1/inbox/stream",
        "POST /v1/assignments/{assignment_id}/accept",
        "POST /v1/assignments/{assignment_id}/reject",
        "POST /v1/assignments/{assignment_id}/return",
    ):
        assert access.POLICY[route].roles == frozenset(OFFER_ROLES), route
    # Every staff role that routing may offer to has a login role those routes allow, and back.
    for staff_role, login in STAFF_LOGIN_ROLES.items():
        assert set(login) <= set(ROLES)
        assert can_act_on_offer(staff_role) == bool(
            access.POLICY["POST /v1/assignments/{assignment_id}/accept"].roles & set(login)
        )


# ---- routing ------------------------------------------------------------------------


def test_a_candidate_who_cannot_accept_is_never_chosen_and_the_decision_says_why():
    # A hand-built policy naming operators (parse_policy refuses that; decide must too).
    policy = default_policy()
    rule = policy.rules[0]
    bad = Target(tier="city", roles=("operator", "aid_officer"), skill="consultation", timeout_minutes=10)
    forced = type(policy)(**{**policy.__dict__, "rules": (type(rule)("ops", {}, (bad,)),), "on_call": None})
    seat = staff("seat", "operator", load=0)
    aid = staff("aid", "aid_officer", load=9)  # busier, and still the only one who can accept
    d = decide(
        OrderView(id="o", service_type="consultation", county_code="140430"),
        [seat, aid],
        SUNDAY_2AM,
        policy=forced,
        calendar=CAL,
    )
    assert d.chosen is not None and d.chosen.id == "aid"
    assert "无权接单" in why(d, "seat") and "cannot accept offers" in why(d, "seat")
    # Only operators: nobody is offered the order — the supervisor queue, never a dead offer.
    d = decide(
        OrderView(id="o", service_type="consultation", county_code="140430"),
        [seat],
        SUNDAY_2AM,
        policy=forced,
        calendar=CAL,
    )
    assert d.chosen is None and "无权接单" in why(d, "seat")


def test_a_follow_up_never_goes_back_to_a_previous_handler_who_cannot_act():
    seat = staff("seat", "operator")
    o = OrderView(id="o", service_type="consultation", county_code="140430", previous_handler_id="seat")
    d = decide(o, [seat], TUESDAY_10, policy=POLICY, calendar=CAL)
    assert d.rule != "follow-up/previous-handler" and (d.chosen is None or d.chosen.id != "seat")


def test_urgent_consultation_at_night_reaches_the_on_call_tier_not_the_12348_seats():
    county = staff(
        "cty", "lawyer", tier="county", slots=[Slot(d, time(8, 30), time(17, 30)) for d in range(5)]
    )
    seat = staff("seat", "operator")
    duty_lawyer = staff("duty", "lawyer", skills=("on_call",))
    o = OrderView(
        id="o", service_type="consultation", county_code="140430", region_code="140430003", urgency="urgent"
    )
    d = decide(o, [county, seat, duty_lawyer], SUNDAY_2AM, policy=POLICY, calendar=CAL)
    assert d.chosen is not None and d.chosen.id == "duty"
    assert d.rule == "consultation-urgent#2:city/7×24值班" and d.offer_timeout_minutes == 10
    assert "无权接单" in why(d, "seat")
    # By day the county centre, open, takes it.
    assert decide(o, [county, seat, duty_lawyer], TUESDAY_10, policy=POLICY, calendar=CAL).chosen.id == "cty"


def test_the_shipped_policy_names_no_role_that_cannot_act():
    p = default_policy()
    targets = [t for r in p.rules for t in r.targets] + [p.on_call.target]
    assert all(can_act_on_offer(role) for t in targets for role in t.roles)
    assert "operator" not in {role for t in targets for role in t.roles}


def test_a_policy_naming_operators_is_refused():
    doc = {
        "version": "x",
        "rules": [
            {
                "id": "a",
                "match": {},
                "targets": [{"tier": "city", "roles": ["operator"], "skill": "consultation"}],
            }
        ],
    }
    with pytest.raises(ValueError, match="cannot accept an offer"):
        parse_policy(doc)


# ---- the demo on-call rota ----------------------------------------------------------


def _on_call_team() -> list[StaffView]:
    _, people = demo_network.build()
    out = []
    for p in people:
        if p.on_call:
            out.append(
                staff(
                    str(p.id),
                    p.role,
                    skills=tuple(p.skills),
                    slots=[Slot(d, a, b, "on_call") for d, a, b in p.on_call],
                )
            )
    return out


def test_the_city_centre_rota_covers_every_hour_of_every_day_with_someone_who_can_accept():
    team = _on_call_team()
    assert {s.role for s in team} == {"lawyer", "aid_officer"} and len(team) == 7
    assert all(can_act_on_offer(s.role) for s in team)
    holiday = lambda d: False  # noqa: E731 — a week of public holidays: the rota does not care
    at = datetime(2026, 9, 28, 0, 0, tzinfo=CHINA_TZ)  # into the National Day week
    while at < datetime(2026, 10, 12, tzinfo=CHINA_TZ):
        for calendar in (holiday, None):
            on = {s.role for s in team if domain.on_duty(s, at, calendar)}
            assert on == {"lawyer", "aid_officer"}, at
        at += timedelta(minutes=20)
    # Nobody works two shifts in a row.
    for s in team:
        assert (
            domain.on_duty(s, datetime(2026, 10, 1, 19, 59, tzinfo=CHINA_TZ), holiday)
            + domain.on_duty(s, datetime(2026, 10, 1, 20, 0, tzinfo=CHINA_TZ), holiday)
            <= 1
        )


def test_on_call_slots_run_on_holidays_while_office_slots_follow_the_calendar():
    holiday = lambda d: False  # noqa: E731
    office = staff("office", "lawyer", slots=[Slot(6, time(1), time(3))])
    rota = staff("rota", "lawyer", slots=[Slot(6, time(1), time(3), "on_call")])
    assert not domain.on_duty(office, SUNDAY_2AM, holiday) and domain.on_duty(rota, SUNDAY_2AM, holiday)
    assert domain.next_duty(rota, SUNDAY_2AM.replace(hour=4), holiday) == SUNDAY_2AM.replace(
        hour=1
    ) + timedelta(days=7)
