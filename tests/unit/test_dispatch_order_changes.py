"""What a change intake announces means for routing (services/dispatch/order_changes.py):
which facts changed, whether the holder still fits, what to do — pure, against the real policy."""

from __future__ import annotations

import dataclasses

import pytest

from services.dispatch import domain
from services.dispatch import order_changes as oc
from services.dispatch.policy import default_policy

POLICY = default_policy()
QINXIAN = "140430"
TOWNSHIP = "140430003"

FACTS = oc.Facts("legal_aid", "labor", "normal", (), TOWNSHIP, QINXIAN)


def person(
    role: str, skills: tuple[str, ...], tier: str = "county", region: str = QINXIAN
) -> domain.StaffView:
    return domain.StaffView(
        id=f"{role}-{tier}",
        name="某",
        role=role,
        skills=frozenset(skills),
        service_point_id="p",
        service_point_name="点",
        tier=tier,
        county_code=QINXIAN if tier != "city" else None,
        capacity=10,
        load=0,
        region_code=region,
    )


def order(**over) -> domain.OrderView:  # type: ignore[no-untyped-def]
    base = dict(
        id="o", service_type="legal_aid", county_code=QINXIAN, region_code=TOWNSHIP, description="拖欠工资"
    )
    return domain.OrderView(**(base | over))


def test_diff_names_what_changed():
    assert not oc.diff(FACTS, FACTS).any
    moved = dataclasses.replace(FACTS, county_code="140429", region_code="140429")
    assert oc.diff(FACTS, moved).county and oc.diff(FACTS, moved).region
    urgent = oc.diff(FACTS, dataclasses.replace(FACTS, urgency="critical"))
    assert urgent.urgency and urgent.clocks and not urgent.reclassified
    retyped = oc.diff(FACTS, dataclasses.replace(FACTS, service_type="mediation"))
    assert retyped.reclassified and retyped.clocks
    groups = oc.diff(FACTS, dataclasses.replace(FACTS, special_groups=("elderly",)))
    assert groups.groups and not groups.clocks
    text = retyped.describe(FACTS, dataclasses.replace(FACTS, service_type="mediation"))
    assert "legal_aid→mediation" in text


def test_stale_by_revision():
    assert oc.stale(3, 3) and oc.stale(2, 3)
    assert not oc.stale(4, 3)
    assert not oc.stale(None, 9)  # an event without a revision is taken as it comes


def test_an_aid_officer_cannot_handle_mediation_but_keeps_a_legal_aid_change_of_domain():
    officer = person("aid_officer", ("legal_aid", "consultation"))
    assert oc.still_fits(officer, order(domain="family"), POLICY, taken=True) is None
    why = oc.still_fits(officer, order(service_type="mediation"), POLICY, taken=True)
    assert why is not None and "mediation" in why and "mediator" in why


def test_the_on_call_lawyer_keeps_an_urgent_order_they_hold_until_it_becomes_a_case_they_cannot_work():
    """The 7×24 tier is one of an urgent order's targets: a change of domain leaves it with the
    on-call lawyer working it (it was withdrawn before: the rule's own targets lack the tier); a
    reclassification to mediation takes it from them (nobody then holds it who cannot act)."""
    duty = person("lawyer", ("on_call",), tier="city", region="140400")
    urgent = order(service_type="consultation", domain="neighbor", urgency="urgent", description="问问")
    assert oc.still_fits(duty, urgent, POLICY, taken=True) is None
    assert oc.still_fits(duty, dataclasses.replace(urgent, domain="labor"), POLICY, taken=True) is None
    why = oc.still_fits(duty, dataclasses.replace(urgent, service_type="mediation"), POLICY, taken=True)
    assert why is not None and "不能办理人民调解案件" in why
    # No longer urgent: the on-call tier is not its target any more (as before), a county lawyer is.
    assert oc.still_fits(duty, dataclasses.replace(urgent, urgency="normal"), POLICY, taken=True) is not None


def test_an_open_offer_must_also_sit_where_the_new_rule_looks():
    """A village adviser offered a plain consultation no longer fits once it is urgent (the
    urgent rule goes to the county centre and the 12348 seats), though role and skill match."""
    village = person("lawyer", ("consultation",), tier="village", region=TOWNSHIP + "001")
    plain = order(service_type="consultation", domain="neighbor", description="问问")
    assert oc.still_fits(village, plain, POLICY, taken=False) is None
    urgent = dataclasses.replace(plain, urgency="urgent")
    assert oc.rule_for(urgent, POLICY).id == "consultation-urgent"
    assert oc.still_fits(village, urgent, POLICY, taken=False) is not None
    # Accepted (or named by a supervisor's transfer): where they sit no longer matters.
    assert oc.still_fits(village, urgent, POLICY, taken=True) is None


@pytest.mark.parametrize(
    ("status", "fit", "holder", "rule_changed", "want"),
    [
        ("offered", None, True, False, oc.KEEP),
        ("offered", "岗位不符", True, True, oc.WITHDRAW),
        ("assigned", None, True, True, oc.KEEP),
        ("assigned", "岗位不符", True, True, oc.WITHDRAW),
        ("escalated", None, False, True, oc.REROUTE),
        ("escalated", None, False, False, oc.QUEUE),
        ("new", None, False, False, oc.REROUTE),
        ("closed", "岗位不符", True, True, oc.NOTHING),
        ("merged", None, False, True, oc.NOTHING),
    ],
)
def test_redecide(status, fit, holder, rule_changed, want):
    assert oc.redecide(status=status, holder_fit=fit, has_holder=holder, rule_changed=rule_changed) == want


def test_a_holder_who_can_no_longer_act_is_named_with_the_reason():
    assert oc.holder_unable(active=True, role="mediator", service_type="mediation") is None
    assert oc.holder_unable(active=True, role="lawyer", service_type="consultation") is None
    assert "已停用" in (oc.holder_unable(active=False, role="mediator", service_type="mediation") or "")
    assert "无权接单" in (oc.holder_unable(active=True, role="volunteer", service_type="consultation") or "")
    assert "不能办理人民调解案件" in (
        oc.holder_unable(active=True, role="lawyer", service_type="mediation") or ""
    )
