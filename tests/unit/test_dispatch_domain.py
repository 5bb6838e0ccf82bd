"""Every routing rule of services/dispatch/domain.py, without I/O."""

from __future__ import annotations

import inspect
from datetime import date, datetime, time, timedelta

import pytest

from libs.common.calendar import WorkCalendar
from libs.common.clock import CHINA_TZ
from services.dispatch import domain
from services.dispatch.domain import DatedSlot, OrderView, Slot, StaffView, decide
from services.dispatch.policy import default_policy, parse_policy

# Tuesday 2026-11-24, 10:00 in China: a working day, county centres are open.
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=CHINA_TZ)
POLICY, CAL = default_policy(), WorkCalendar()  # decide() is handed both, as dispatch does
WEEKDAYS = [Slot(d, time(8, 30), time(17, 30)) for d in range(5)]
COUNTY, TOWN, OTHER_TOWN, VILLAGE = "140430", "140430003", "140430004", "140430003001"


def person(
    sid: str,
    role: str = "lawyer",
    tier: str = "county",
    skills=("consultation", "legal_aid", "mediation", "lawyer_referral"),
    region: str | None = None,
    **kw,
) -> StaffView:
    region = region or {"county": COUNTY, "township": TOWN, "village": VILLAGE, "city": "140400"}[tier]
    defaults = dict(
        name=f"name-{sid}",
        role=role,
        skills=frozenset(skills),
        service_point_id=f"sp-{region}",
        service_point_name=f"point {region}",
        tier=tier,
        county_code=None if tier == "city" else COUNTY,
        capacity=10,
        load=0,
        slots=list(WEEKDAYS),
        region_code=region,
    )
    defaults.update(kw)
    return StaffView(id=sid, **defaults)


def order(**kw) -> OrderView:
    base = dict(id="o1", service_type="consultation", county_code=COUNTY, region_code=TOWN)
    base.update(kw)
    return OrderView(**base)


def why(d: domain.Decision, sid: str) -> str | None:
    return next(c.passed_over for c in d.candidates if c.staff_id == sid)


def test_legal_aid_goes_to_an_aid_officer_of_the_county_centre_and_records_the_policy():
    staff = [person("law"), person("aid", role="aid_officer", skills=("legal_aid",))]
    d = decide(order(service_type="legal_aid"), staff, NOW, policy=POLICY, calendar=CAL)
    assert d.chosen.id == "aid"
    assert d.rule.startswith("legal-aid#1:county") and d.policy_version == default_policy().version
    assert "岗位/技能不符" in why(d, "law")
    assert d.offer_timeout_minutes == 30


def test_on_duty_now_beats_a_lighter_load_off_duty():
    friday_only = [Slot(4, time(8, 30), time(17, 30))]
    staff = [person("busy", load=5), person("idle", slots=friday_only)]
    d = decide(order(service_type="lawyer_referral"), staff, NOW, policy=POLICY, calendar=CAL)
    assert d.chosen.id == "busy" and why(d, "idle") == "当前不在岗 | not on duty now"


def test_at_night_the_earliest_next_duty_wins():
    night = NOW.replace(hour=22)
    staff = [
        person("thu", slots=[Slot(3, time(9), time(12))]),
        person("wed", slots=[Slot(2, time(9), time(12))]),
    ]
    d = decide(order(service_type="lawyer_referral"), staff, night, policy=POLICY, calendar=CAL)
    assert d.chosen.id == "wed"
    assert next(c for c in d.candidates if c.staff_id == "wed").next_duty == datetime(
        2026, 11, 25, 9, tzinfo=CHINA_TZ
    )


def test_least_weighted_load_then_proficiency_then_longest_idle():
    o = order(service_type="lawyer_referral")
    d = decide(o, [person("a", load=4), person("b", load=2)], NOW, policy=POLICY, calendar=CAL)
    assert d.chosen.id == "b" and why(d, "a") == "加权负荷更高 | higher weighted load"
    d = decide(
        o,
        [person("lo", levels={"lawyer_referral": 2}), person("hi", levels={"lawyer_referral": 5})],
        NOW,
        policy=POLICY,
        calendar=CAL,
    )
    assert d.chosen.id == "hi" and why(d, "lo") == "熟练度较低 | lower proficiency"
    early, late = NOW - timedelta(days=3), NOW - timedelta(hours=1)
    d = decide(
        o,
        [person("recent", last_assigned_at=late), person("idle", last_assigned_at=early)],
        NOW,
        policy=POLICY,
        calendar=CAL,
    )
    assert d.chosen.id == "idle" and why(d, "recent") == "空闲时间较短 | assigned more recently"


def test_capacity_is_weighted_by_complexity():
    # Criminal + violence → complex band → weight 3: 8/10 has no room, 7/10 has.
    o = order(service_type="consultation", domain="criminal", description="他威胁要砍我")
    levels = {"consultation": 3, "criminal": 4}
    staff = [person("full", load=8, levels=levels), person("room", load=7, levels=levels)]
    d = decide(o, staff, NOW, policy=POLICY, calendar=CAL)
    assert d.band == "complex" and d.weight == 3
    assert d.chosen.id == "room" and "负荷已满" in why(d, "full")


def test_leave_sign_out_and_sign_in():
    o = order(service_type="lawyer_referral")
    on_leave = person("leave", leave=[(date(2026, 11, 23), date(2026, 12, 31))])
    signed_out = person("out", signed_in=False)
    # Signed out for today: next duty is tomorrow's roster, after someone on duty at 08:00.
    d = decide(
        o,
        [on_leave, signed_out, person("other", slots=[Slot(2, time(8), time(12))])],
        NOW,
        policy=POLICY,
        calendar=CAL,
    )
    assert d.chosen.id == "other" and not d.candidates[0].on_duty and not d.candidates[1].on_duty
    assert why(d, "leave") == "请假或两周内无值班 | on leave or no duty within 14 days"
    assert why(d, "out") == "下次值班更晚 | next duty later"
    # Signed in outside the roster: on duty now.
    d = decide(
        o,
        [person("weekend", slots=[], signed_in=True), person("later", slots=[Slot(3, time(9), time(12))])],
        NOW,
        policy=POLICY,
        calendar=CAL,
    )
    assert d.chosen.id == "weekend" and d.candidates[0].on_duty


def test_roster_exceptions_day_off_and_extra_duty():
    off = person("off", exceptions=[DatedSlot(NOW.date(), "off")])
    extra = person("extra", slots=[], exceptions=[DatedSlot(NOW.date(), "extra", time(9), time(12))])
    d = decide(order(service_type="lawyer_referral"), [off, extra], NOW, policy=POLICY, calendar=CAL)
    assert d.chosen.id == "extra"
    assert next(c for c in d.candidates if c.staff_id == "off").next_duty.date() == date(2026, 11, 25)


def test_weekly_roster_follows_the_holiday_calendar_but_hotline_seats_run_7x24():
    holiday = lambda d: False  # noqa: E731 — every day a holiday for this test
    office = person("office")
    hotline = person(
        "seat",
        role="operator",
        tier="city",
        skills=("consultation",),
        slots=[Slot(d, time(0), time(23, 59)) for d in range(7)],
    )
    assert not domain.on_duty(office, NOW, holiday) and domain.on_duty(hotline, NOW, holiday)
    assert domain.next_duty(office, NOW, holiday) is None  # no working day within 14 days


def test_simple_consultation_goes_to_the_village_adviser_complex_to_a_county_specialist():
    village = person("vil", role="legal_worker", tier="village", skills=("consultation",))
    county = person("cty", levels={"consultation": 4, "labor": 4})
    d = decide(
        order(region_code=VILLAGE, domain="labor", description="公司欠我三千块工资"),
        [village, county],
        NOW,
        policy=POLICY,
        calendar=CAL,
    )
    assert d.band == "simple" and d.chosen.id == "vil" and d.rule.startswith("consultation-simple#1:village")
    d = decide(
        order(region_code=VILLAGE, domain="labor", description="我们几十个工友们被拖欠工资共二十万元"),
        [village, county],
        NOW,
        policy=POLICY,
        calendar=CAL,
    )
    assert d.band == "complex" and d.chosen.id == "cty" and d.rule.startswith("consultation-complex#1:county")
    assert any("群体性纠纷" in r for r in d.complexity.reasons) and any(
        "20" in r for r in d.complexity.reasons
    )


def test_relaxation_lower_proficiency_neighbouring_township_parent_tier():
    o = order(service_type="consultation", domain="criminal", description="想咨询刑事案件")
    novice = person("novice", levels={"criminal": 1})
    d = decide(o, [novice], NOW, policy=POLICY, calendar=CAL)
    assert d.chosen.id == "novice" and d.step == "lower_proficiency" and d.rule.endswith("~lower_proficiency")
    # Mediation, simple: own township has nobody → a neighbouring township's mediator.
    med = dict(role="mediator", skills=("mediation",))
    neighbour = person("nb", tier="township", region=OTHER_TOWN, **med)
    d = decide(
        order(service_type="mediation", description="邻居噪音"), [neighbour], NOW, policy=POLICY, calendar=CAL
    )
    assert d.chosen.id == "nb" and d.step == "neighbouring_township"
    # Nobody at any township: parent tier (county centre) via the first target's relaxation.
    d = decide(
        order(service_type="mediation", description="邻居噪音"),
        [person("cm", **med)],
        NOW,
        policy=POLICY,
        calendar=CAL,
    )
    assert d.chosen.id == "cm" and d.step == "parent_tier"


def test_city_centre_is_the_parent_of_the_county_for_legal_aid():
    city = person("city-aid", role="aid_officer", tier="city", skills=("legal_aid",))
    d = decide(order(service_type="legal_aid"), [person("law"), city], NOW, policy=POLICY, calendar=CAL)
    assert d.chosen.id == "city-aid" and d.step == "parent_tier"


def test_conflict_of_interest_and_already_offered_are_never_chosen():
    staff = [person("conflicted"), person("rejected-it")]
    o = order(
        service_type="lawyer_referral",
        conflicted_staff=frozenset({"conflicted"}),
        exclude_staff=frozenset({"rejected-it"}),
    )
    d = decide(o, staff, NOW, policy=POLICY, calendar=CAL)
    assert d.chosen is None and "supervisor queue" in d.reason
    assert "利益冲突" in why(d, "conflicted") and "已派过" in why(d, "rejected-it")


def test_a_person_being_assigned_elsewhere_right_now_is_passed_for_the_next_best():
    staff = [person("idle-longest"), person("next")]
    o = order(service_type="lawyer_referral")
    assert decide(o, staff, NOW, policy=POLICY, calendar=CAL).chosen is not None
    first = decide(o, staff, NOW, policy=POLICY, calendar=CAL).chosen.id
    o.busy_staff = frozenset({first})  # another routing holds their row (service.offer_next)
    d = decide(o, staff, NOW, policy=POLICY, calendar=CAL)
    assert d.chosen is not None and d.chosen.id != first
    assert "正在被分派其他工单" in why(d, first)


def test_follow_up_goes_back_to_the_previous_handler_unless_unavailable():
    staff = [person("first", tier="township", role="legal_worker", load=3), person("other")]
    o = order(service_type="consultation", previous_handler_id="first")
    d = decide(o, staff, NOW, policy=POLICY, calendar=CAL)
    assert d.chosen.id == "first" and d.rule == "follow-up/previous-handler"
    staff[0].leave = [(NOW.date(), NOW.date() + timedelta(days=30))]
    d = decide(o, staff, NOW, policy=POLICY, calendar=CAL)
    assert d.chosen.id == "other" and d.rule != "follow-up/previous-handler"


def test_first_matching_rule_special_groups_urgency_and_channel():
    village = person("vil", role="legal_worker", tier="village", skills=("consultation",))
    town = person("town", role="legal_worker", tier="township", skills=("consultation",))
    d = decide(
        order(region_code=VILLAGE, special_groups=("elderly",)),
        [village, town],
        NOW,
        policy=POLICY,
        calendar=CAL,
    )
    assert d.rule.startswith("consultation-special-groups") and d.chosen.id == "town"
    d = decide(
        order(region_code=VILLAGE, urgency="urgent"),
        [village, town, person("cty")],
        NOW,
        policy=POLICY,
        calendar=CAL,
    )
    assert d.rule.startswith("consultation-urgent") and d.chosen.id == "cty"
    custom = parse_policy(
        {
            "version": "test-1",
            "rules": [
                {
                    "id": "counter",
                    "match": {"channel": "counter"},
                    "targets": [{"tier": "township", "roles": ["legal_worker"], "skill": "consultation"}],
                },
                {
                    "id": "rest",
                    "match": {},
                    "targets": [{"tier": "county", "roles": ["lawyer"], "skill": "consultation"}],
                },
            ],
        }
    )
    d = decide(order(channel="counter"), [town, person("cty")], NOW, policy=custom, calendar=CAL)
    assert (d.rule.split("#")[0], d.chosen.id, d.policy_version) == ("counter", "town", "test-1")
    d = decide(order(channel="web"), [town, person("cty")], NOW, policy=custom, calendar=CAL)
    assert (d.rule.split("#")[0], d.chosen.id) == ("rest", "cty")


def test_decide_is_handed_its_policy_and_calendar_and_reads_neither():
    with pytest.raises(TypeError):
        decide(order(), [person("a")], NOW)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        decide(order(), [person("a")], NOW, policy=POLICY)  # type: ignore[call-arg]
    source = inspect.getsource(domain)
    assert "default_policy(" not in source and "os.environ" not in source and "import yaml" not in source

    class Sundays:  # any object that answers is_workday will do
        def is_workday(self, d: date) -> bool:
            return d.weekday() == 6

    sunday_10 = datetime(2026, 11, 29, 10, 0, tzinfo=CHINA_TZ)
    d = decide(
        order(service_type="lawyer_referral"), [person("a")], sunday_10, policy=POLICY, calendar=Sundays()
    )
    assert d.chosen is not None and d.candidates[0].on_duty  # a Sunday workday follows Monday's roster


def test_the_score_is_named_and_its_field_order_is_the_ranking():
    assert domain.Score._fields == (
        "off_duty", "next_duty", "lacks_language", "load_share", "minus_level", "idle_since",
    )  # fmt: skip
    at = datetime(2026, 11, 20, 9, 0, tzinfo=CHINA_TZ)
    d = decide(
        order(service_type="lawyer_referral"),
        [person("a", load=2, last_assigned_at=at), person("b", load=1)],
        NOW,
        policy=POLICY,
        calendar=CAL,
    )
    rows = {c.staff_id: c for c in d.candidates}
    assert d.chosen.id == "b"
    # What the decision row stores: the Score's fields in order, datetimes as ISO text.
    assert rows["a"].score == (0, NOW.isoformat(), 0, 0.2, -1, at.isoformat())
    assert rows["b"].score[:5] == (0, NOW.isoformat(), 0, 0.1, -1)


def test_priority_key_special_groups_and_urgent_first_then_deadline():
    soon, later = NOW + timedelta(hours=1), NOW + timedelta(days=1)
    keys = {
        "normal-soon": domain.priority_key((), "normal", soon),
        "elderly-later": domain.priority_key(("elderly",), "normal", later),
        "urgent-later": domain.priority_key((), "urgent", later),
        "elderly-soon": domain.priority_key(("elderly",), "normal", soon),
    }
    assert sorted(keys, key=keys.get) == ["elderly-soon", "elderly-later", "urgent-later", "normal-soon"]


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"rules": []}, "version"),
        (
            {
                "version": "x",
                "rules": [
                    {
                        "id": "a",
                        "match": {"colour": "red"},
                        "targets": [{"tier": "county", "roles": ["x"], "skill": "y"}],
                    }
                ],
            },
            "unknown match keys",
        ),
        (
            {
                "version": "x",
                "rules": [
                    {"id": "a", "match": {}, "targets": [{"tier": "planet", "roles": ["x"], "skill": "y"}]}
                ],
            },
            "tier",
        ),
        (
            {
                "version": "x",
                "rules": [
                    {
                        "id": "a",
                        "match": {"urgency": "urgent"},
                        "targets": [{"tier": "county", "roles": ["lawyer"], "skill": "y"}],
                    }
                ],
            },
            "last rule",
        ),
    ],
)
def test_policy_validation_names_the_problem(doc, message):
    with pytest.raises(ValueError, match=message):
        parse_policy(doc)


def test_a_dialect_speaker_comes_before_a_lighter_load():
    o = order(service_type="lawyer_referral", language="长治话")
    staff = [
        person("mandarin", languages=("普通话",)),
        person("local", load=3, languages=("普通话", "长治话")),
    ]
    d = decide(o, staff, NOW, policy=POLICY, calendar=CAL)
    assert d.chosen.id == "local" and "方言" in why(d, "mandarin")


def test_an_offer_at_night_starts_its_answer_clock_at_the_next_duty():
    night = NOW.replace(hour=22)
    d = decide(order(service_type="lawyer_referral"), [person("a")], night, policy=POLICY, calendar=CAL)
    assert d.available_at == datetime(2026, 11, 25, 8, 30, tzinfo=CHINA_TZ)


# One order that each rule of the shipped policy.yaml is the first match for.
RULE_EXAMPLES = {
    "consultation-urgent": dict(service_type="consultation", urgency="urgent"),
    "consultation-special-groups": dict(service_type="consultation", special_groups=("disabled",)),
    "consultation-simple": dict(service_type="consultation"),
    "consultation-complex": dict(service_type="consultation", domain="criminal"),
    "legal-aid": dict(service_type="legal_aid"),
    "mediation-group-or-violent": dict(service_type="mediation", description="全村集体纠纷"),
    "mediation-local": dict(service_type="mediation"),
    "notarization": dict(service_type="notarization"),
    "lawyer-referral": dict(service_type="lawyer_referral"),
    "county-window-default": dict(service_type="complaint"),
}


def test_every_rule_of_the_shipped_policy_is_reachable_and_tested():
    assert set(RULE_EXAMPLES) == {r.id for r in default_policy().rules}


@pytest.mark.parametrize("rule_id", sorted(RULE_EXAMPLES))
def test_each_policy_rule_routes_to_its_first_target(rule_id):
    everyone = [
        person("cty-law", levels={"criminal": 4, "consultation": 3}),
        person("cty-aid", role="aid_officer", skills=("legal_aid", "consultation")),
        person("cty-med", role="mediator", skills=("mediation",)),
        person("cty-not", role="notary", skills=("notarization",)),
        person("town-med", role="mediator", tier="township", skills=("mediation",)),
        person("town-lw", role="legal_worker", tier="township", skills=("consultation",)),
        person("vil-lw", role="legal_worker", tier="village", skills=("consultation",)),
    ]
    d = decide(
        order(region_code=VILLAGE, **RULE_EXAMPLES[rule_id]), everyone, NOW, policy=POLICY, calendar=CAL
    )
    rule = next(r for r in default_policy().rules if r.id == rule_id)
    assert d.rule == f"{rule_id}#1:{rule.targets[0].tier}/{rule.targets[0].window}"
    assert d.chosen.tier == rule.targets[0].tier and d.chosen.role in rule.targets[0].roles


def test_a_make_up_saturday_follows_the_monday_roster():
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=CHINA_TZ)
    make_up = lambda d: d == saturday.date() or d.weekday() < 5  # noqa: E731
    office = person("office")
    assert domain.on_duty(office, saturday, make_up)
    assert not domain.on_duty(office, saturday, lambda d: d.weekday() < 5)


def test_at_night_a_simple_consultation_waits_for_the_earliest_duty_not_the_first_target():
    """Nobody on duty: the village adviser (first target) is next on duty next Monday
    afternoon, the county centre opens tomorrow morning — the county centre must win."""
    night = NOW.replace(hour=22)  # Tuesday 22:00
    village = person(
        "vil",
        role="legal_worker",
        tier="village",
        skills=("consultation",),
        slots=[Slot(0, time(14, 0), time(17, 0))],
    )
    county = person("cty", role="legal_worker", skills=("consultation",))
    d = decide(
        order(region_code=VILLAGE, domain="labor", description="公司欠我三千块工资"),
        [village, county],
        night,
        policy=POLICY,
        calendar=CAL,
    )
    assert d.band == "simple"
    assert d.chosen.id == "cty"  # the county centre (reached via the first target that relaxes to it)
    assert d.available_at == datetime(2026, 11, 25, 8, 30, tzinfo=CHINA_TZ)
    assert "下次值班更晚" in why(d, "vil")
    # During opening hours the same order still goes to the village adviser first.
    monday = datetime(2026, 11, 30, 15, 0, tzinfo=CHINA_TZ)
    d = decide(
        order(region_code=VILLAGE, domain="labor", description="公司欠我三千块工资"),
        [village, county],
        monday,
        policy=POLICY,
        calendar=CAL,
    )
    assert d.chosen.id == "vil"


def test_a_busy_local_adviser_yields_to_an_idle_colleague_on_duty_at_the_next_target():
    """Locality first, but a queue at the one-person village room should not make the citizen
    wait while someone at the county centre is on duty and idle."""
    monday = datetime(2026, 11, 30, 15, 0, tzinfo=CHINA_TZ)
    simple = order(region_code=VILLAGE, domain="labor", description="公司欠我三千块工资")
    village = person("vil", role="legal_worker", tier="village", skills=("consultation",), load=2)
    county = person("cty", role="legal_worker", skills=("consultation",))
    assert decide(simple, [village, county], monday, policy=POLICY, calendar=CAL).chosen.id == "cty"
    # Nobody idle anywhere: the local adviser keeps it.
    county.load = 3
    assert decide(simple, [village, county], monday, policy=POLICY, calendar=CAL).chosen.id == "vil"
