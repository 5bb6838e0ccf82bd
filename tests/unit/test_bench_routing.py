"""The bench's candidate pools come from the routing policy, and decide() agrees with them."""

from datetime import datetime

from bench import routing
from bench.decisions import measure
from bench.sim import engine, network, policies
from libs.common.calendar import WorkCalendar
from libs.common.clock import CHINA_TZ
from services.dispatch import domain
from services.dispatch.policy import POLICY_PATH, default_policy, load_policy, parse_policy

TUESDAY_10 = datetime(2026, 3, 3, 10, 0, tzinfo=CHINA_TZ)
POLICY, CAL = default_policy(), WorkCalendar()  # decide() is handed both, as dispatch does


def test_pools_are_read_off_the_matched_rule():
    assert routing.roles_for("consultation") == ("lawyer", "legal_worker")
    assert [t.tier for t in routing.targets_for("consultation")] == ["village", "township", "county"]
    assert routing.roles_for("legal_aid", tier="county") == ("aid_officer",)
    assert routing.fits("aid_officer", frozenset({"legal_aid"}), "legal_aid", "county")
    assert not routing.fits("aid_officer", frozenset({"consultation"}), "legal_aid", "county")
    assert not routing.fits("mediator", frozenset({"mediation"}), "consultation")


def test_rule_for_is_the_rule_decide_applies():
    net = network.build()
    for st in ("consultation", "legal_aid", "mediation", "notarization", "complaint"):
        order = domain.OrderView(id="t", service_type=st, county_code="140430", region_code="140430")
        d = domain.decide(
            order, [s.view for s in net.routing_staff("140430")], TUESDAY_10, policy=POLICY, calendar=CAL
        )
        assert d.rule.split("#")[0] == routing.rule_for(order).id


def test_a_different_policy_gives_a_different_pool():
    import yaml

    doc = yaml.safe_load(POLICY_PATH.read_text(encoding="utf-8"))
    for rule in doc["rules"]:
        if rule["id"] == "legal-aid":
            rule["targets"][0]["roles"] = ["aid_officer", "lawyer"]
    changed = parse_policy(doc)
    assert routing.roles_for("legal_aid", changed, tier="county") == ("aid_officer", "lawyer")
    assert routing.roles_for("legal_aid", load_policy(), tier="county") == ("aid_officer",)


def test_real_router_gets_what_dispatch_loads_and_books_the_policy_weight():
    net = network.build()
    staff = net.routing_staff("140430")
    assert {s.view.county_code for s in staff} == {"140430", None}  # the county and the city centre
    assert len({s.view.role for s in staff}) >= 4  # every role: the policy, not the bench, filters
    assert all(s.view.levels and s.view.region_code for s in staff if s.view.role != "operator")
    lawline = policies.Lawline(net)

    order = engine.SimOrder("o1", TUESDAY_10, "legal_aid", "140430", "140430", 600.0, weight=0)
    chosen = lawline.choose(order, TUESDAY_10)
    assert chosen is not None and chosen.view.role == "aid_officer" and order.weight >= 1


def test_decisions_benchmark_runs_on_the_new_views():
    out = measure(seconds=0.2, max_calls=10, n=600)
    assert out["county_slice"]["calls"] > 0 and out["county_slice"]["chosen_share"] > 0
    assert out["all_10k"]["staff_per_call"] == 600
