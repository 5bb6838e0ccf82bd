"""The routing simulation runs the real decide() and is seeded and reproducible."""

from bench.sim import arrivals as arr
from bench.sim import engine, network, policies
from bench.sim.run import START, run


def test_network_mirrors_the_demo_rosters():
    net = network.build()
    assert len(net.staff) == 1093  # 1,086 and the city centre's 7 on-call staff
    pool = net.centre_pool("140430", "consultation")
    assert {s.view.role for s in pool} == {"lawyer", "legal_worker"} and len(pool) == 5
    assert len(net.centre_pool("140430", "legal_aid")) == 2
    assert all(s.view.slots for s in pool)


def test_business_clock():
    monday_9 = START.replace(month=3, day=2, hour=9)
    assert network.is_open(monday_9)
    assert not network.is_open(START)  # Saturday
    assert network.next_open(START) == START.replace(month=3, day=2, hour=8, minute=30)
    # Friday 17:00 → Monday 09:00 is 30 min + 30 min of opening time.
    friday_17 = START.replace(month=3, day=6, hour=17)
    assert network.business_seconds(friday_17, START.replace(month=3, day=9, hour=9)) == 3600


def test_every_order_is_served_once_and_the_real_router_never_escalates_at_demo_load():
    days, seed = 3, 5
    a = arr.generate(START, days, seed)
    net = network.build()
    orders = engine.make_orders(a, seed, engine.DEFAULT_HANDLING)
    out = engine.simulate(net, policies.Lawline(net), orders, START, days)
    assert all(o.start is not None and o.start >= o.at for o in out.orders)
    assert out.escalations == 0
    assert sum(s.handled for s in net.staff) == len(orders)
    assert all(s.view.load == 0 for s in net.staff)  # everything finished


def test_simulation_is_reproducible_and_reports_every_policy():
    r1, r2 = run(days=3, seed=11), run(days=3, seed=11)
    strip = lambda r: [{k: v for k, v in p.items() if k != "sim_seconds"} for p in r["policies"]]  # noqa: E731
    assert strip(r1) == strip(r2)
    names = [p["policy"] for p in r1["policies"]]
    assert names[0].startswith("lawline") and "round-robin" in names and "random" in names
    for p in r1["policies"]:
        assert 0 <= p["sla_1_working_day"] <= 1 and 0 <= p["load_gini"] < 1
        assert p["efficiency"] > 0
    # The ideal pooled queue is never beaten by a random choice on the same work.
    by = {p["policy"]: p for p in r1["policies"]}
    assert by["pooled FCFS (ideal reference)"]["mean_wait_min"] <= by["random"]["mean_wait_min"]
