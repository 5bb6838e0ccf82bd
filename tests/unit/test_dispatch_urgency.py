"""`critical` is at least as strict as `urgent` everywhere dispatch treats urgency: the
scale itself, 四优先 priority, the transfer clock, policy rules, the 7×24 tier, offer
timeouts and the supervision ladder. The field case: "邻居拿着刀说要杀了我全家" (critical)
got no priority flag, a county lawyer off duty until 08:30 and a 1-working-day clock."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from libs.common import urgency as urg
from libs.common.calendar import WorkCalendar
from libs.common.clock import CHINA_TZ
from services.dispatch import clocks, domain
from services.dispatch.domain import OrderView, Slot, StaffView, decide
from services.dispatch.policy import default_policy, parse_policy

POLICY = default_policy()
CAL = WorkCalendar({})
SUNDAY_2AM = datetime(2026, 11, 29, 2, 0, tzinfo=CHINA_TZ)
KNIFE = "邻居拿着刀说要杀了我全家"
LEVELS = ("normal", "urgent", "critical")


def test_the_scale_is_ordered_and_unknown_levels_are_refused():
    assert [urg.rank(u) for u in LEVELS] == [0, 1, 2] and urg.rank(None) == 0
    assert urg.at_least("critical", "urgent") and not urg.at_least("normal", "urgent")
    assert urg.levels_from("urgent") == ("urgent", "critical")
    with pytest.raises(ValueError):
        urg.rank("extreme")


def test_priority_flag_for_critical_as_for_urgent():
    later = SUNDAY_2AM + timedelta(days=1)
    assert domain.priority_key((), "critical", later)[0] == domain.priority_key((), "urgent", later)[0] == 0
    assert domain.priority_key((), "normal", later)[0] == 1


@pytest.mark.parametrize("service_type", ["consultation", "legal_aid", "mediation", "complaint"])
def test_transfer_clock_in_hours_for_urgent_and_critical_of_every_type(service_type):
    due = {
        u: clocks.order_clocks(
            received_at=SUNDAY_2AM, service_type=service_type, urgency=u, policy=POLICY, calendar=CAL
        ).transfer_due
        for u in LEVELS
    }
    assert due["urgent"] == due["critical"] == SUNDAY_2AM + timedelta(hours=1)
    assert due["normal"] - SUNDAY_2AM >= timedelta(days=1)  # a working day, from Sunday night


def test_a_critical_clock_may_be_set_shorter_never_longer():
    doc = _policy_doc()
    doc["clocks"]["default"]["critical_transfer_hours"] = 0.5
    p = parse_policy(doc)
    c = clocks.order_clocks(
        received_at=SUNDAY_2AM, service_type="complaint", urgency="critical", policy=p, calendar=CAL
    )
    assert c.transfer_due == SUNDAY_2AM + timedelta(minutes=30)
    doc["clocks"]["default"]["critical_transfer_hours"] = 2
    with pytest.raises(ValueError, match="critical_transfer_hours"):
        parse_policy(doc)


def test_a_rule_for_urgent_orders_takes_critical_ones():
    facts = dict(
        service_type="consultation", domain=None, complexity="simple", special_groups=(), channel="web"
    )
    assert POLICY.match({**facts, "urgency": "critical"}).id == "consultation-urgent"
    assert POLICY.match({**facts, "urgency": "urgent"}).id == "consultation-urgent"
    assert POLICY.match({**facts, "urgency": "normal"}).id == "consultation-simple"
    doc = _policy_doc()
    doc["rules"][0]["match"]["urgency"] = ["loud"]
    with pytest.raises(ValueError, match="urgency must be among"):
        parse_policy(doc)


@pytest.mark.parametrize(
    "service_type", ["consultation", "legal_aid", "mediation", "notarization", "complaint"]
)
def test_urgent_and_critical_orders_of_every_rule_end_with_the_on_call_tier(service_type):
    rule = POLICY.match(
        dict(
            service_type=service_type,
            domain=None,
            complexity="simple",
            special_groups=(),
            channel="web",
            urgency="normal",
        )
    )
    assert POLICY.targets(rule, "normal") == rule.targets
    for u in ("urgent", "critical"):
        assert POLICY.targets(rule, u)[-1] == POLICY.on_call.target
        assert POLICY.targets(rule, u)[-1].tier == "city"


def test_offer_timeouts_are_capped_harder_for_critical():
    assert POLICY.offer_timeout("normal", 60) == 60
    assert POLICY.offer_timeout("urgent", 60) == 10 and POLICY.offer_timeout("critical", 60) == 5
    assert POLICY.offer_timeout("urgent", 3) == 3  # a shorter target timeout stands
    assert POLICY.offer_timeout("critical", None) <= POLICY.offer_timeout("urgent", None)
    doc = _policy_doc()
    doc["defaults"]["offer_timeout_cap_minutes"] = {"urgent": 10, "critical": 20}
    with pytest.raises(ValueError, match="offer_timeout_cap_minutes"):
        parse_policy(doc)
    doc["defaults"]["offer_timeout_cap_minutes"] = {"urgent": 10}
    assert parse_policy(doc).offer_timeout("critical", 60) == 10  # critical takes urgent's cap


def test_supervision_ladder_climbs_in_hours_for_urgent_and_critical():
    due = SUNDAY_2AM
    two_hours_late = due + timedelta(hours=2)
    assert clocks.rung(two_hours_late, due, POLICY.ladder_for("normal")).level == 1
    assert clocks.rung(two_hours_late, due, POLICY.ladder_for("urgent")).level == 2
    assert clocks.rung(two_hours_late, due, POLICY.ladder_for("critical")).level == 2
    for lvl in (1, 2, 3):
        after = {u: next(r.after_hours for r in POLICY.ladder_for(u) if r.level == lvl) for u in LEVELS}
        assert after["critical"] <= after["urgent"] <= after["normal"]
    doc = _policy_doc()
    doc["clocks"]["ladder_by_urgency"]["critical"] = [
        {"level": 1, "after_hours": 0, "to": "service_point"},
        {"level": 2, "after_hours": 48, "to": "county"},
        {"level": 3, "after_hours": 96, "to": "city"},
    ]
    with pytest.raises(ValueError, match="ladder_by_urgency critical"):
        parse_policy(doc)


def _person(
    sid: str, tier: str, skills: tuple[str, ...], slots: list[Slot], role: str = "lawyer"
) -> StaffView:
    region = {"city": "140400", "county": "140430"}[tier]
    return StaffView(
        id=sid, name=sid, role=role, skills=frozenset(skills), service_point_id=f"sp-{sid}",
        service_point_name=f"point {sid}", tier=tier, county_code=None if tier == "city" else "140430",
        capacity=10, load=0, slots=slots, region_code=region,
    )  # fmt: skip


@pytest.mark.parametrize("service_type", ["consultation", "legal_aid"])
def test_the_knife_at_night_goes_to_the_on_call_tier_not_to_a_county_lawyer_at_0830(service_type):
    role = {"legal_aid": "aid_officer"}.get(service_type, "lawyer")
    county = _person(
        "county", "county", (service_type,), [Slot(d, time(8, 30), time(17, 30)) for d in range(5)], role=role
    )
    duty = _person("duty", "city", ("on_call",), [Slot(6, time(0), time(8), "on_call")], role=role)
    o = OrderView(
        id="o", service_type=service_type, county_code="140430", region_code="140430003", description=KNIFE
    )
    for u, expected in (("normal", "county"), ("urgent", "duty"), ("critical", "duty")):
        o.urgency = u
        d = decide(o, [county, duty], SUNDAY_2AM, policy=POLICY, calendar=CAL)
        assert d.chosen is not None and d.chosen.id == expected, (service_type, u, d.reason)
        if expected == "duty":
            assert d.available_at == SUNDAY_2AM and "当前在岗" in d.reason
            assert d.offer_timeout_minutes <= 10
    o.urgency = "critical"
    assert decide(o, [county, duty], SUNDAY_2AM, policy=POLICY, calendar=CAL).offer_timeout_minutes == 5


# The on-call tier is lawyers and aid officers (policy.yaml): an order whose case only another
# role can work must never be held by them — it goes to the first person of that role on duty,
# and the decision says why the on-call officer was passed over (demo D0200: a mediation order
# accepted by the on-call aid officer, then 403 on every mediation step).
@pytest.mark.parametrize(
    "service_type, worker, on_call_roles",
    [("mediation", "mediator", ("lawyer", "aid_officer")), ("legal_aid", "aid_officer", ("lawyer",))],
)
def test_an_urgent_case_order_at_night_never_goes_to_an_on_call_role_that_cannot_work_it(
    service_type, worker, on_call_roles
):
    county = _person(
        "county",
        "county",
        (service_type,),
        [Slot(d, time(8, 30), time(17, 30)) for d in range(5)],
        role=worker,
    )
    duty = [
        _person(f"duty-{r}", "city", ("on_call",), [Slot(6, time(0), time(8), "on_call")], role=r)
        for r in on_call_roles
    ]
    o = OrderView(
        id="o", service_type=service_type, county_code="140430", region_code="140430003", urgency="critical",
        description=KNIFE,
    )  # fmt: skip
    d = decide(o, [county, *duty], SUNDAY_2AM, policy=POLICY, calendar=CAL)
    assert d.chosen is not None and d.chosen.id == "county", d.reason
    assert d.available_at is not None and d.available_at > SUNDAY_2AM  # Monday 08:30, offered now
    passed = {c.staff_id: c.passed_over for c in d.candidates}
    assert all(passed[p.id] for p in duty)  # the row keeps the first target's reason (role mismatch)
    # Against the on-call target alone, the reason is the case role.
    alone = decide(o, duty, SUNDAY_2AM, policy=POLICY, calendar=CAL)
    assert alone.chosen is None  # nobody: the supervisor queue, never a holder who cannot act
    label = "人民调解" if service_type == "mediation" else "法律援助"
    verdicts = [domain._blocker(p, o, POLICY.on_call.target, True, 1) for p in duty]
    assert all(f"不能办理{label}案件" in v and f"cannot work a {service_type} case" in v for v in verdicts)


def test_a_policy_that_sends_a_case_order_to_roles_that_cannot_work_it_is_refused():
    doc = _policy_doc()
    rule = next(r for r in doc["rules"] if r["id"] == "mediation-local")
    rule["targets"][0]["roles"] = ["lawyer"]
    with pytest.raises(
        ValueError, match=r"mediation-local target 1: roles \['lawyer'\] cannot work mediation"
    ):
        parse_policy(doc)
    rule["targets"][0]["roles"] = ["lawyer", "mediator"]  # one role that can is enough
    parse_policy(doc)


def _policy_doc() -> dict:
    import yaml

    from services.dispatch.policy import POLICY_PATH

    return yaml.safe_load(POLICY_PATH.read_text(encoding="utf-8"))
