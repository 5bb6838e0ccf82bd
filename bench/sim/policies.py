"""Routing policies compared by the simulation.

`lawline` calls the REAL services.dispatch.domain.decide, policy-driven
(services/dispatch/policy.yaml), with the staff list the dispatch service would load
(the order's county and the city centre, every role) and their live load and
last-assignment time. The baselines take their candidates from the same policy rule
(bench.routing: roles and skill of its county-tier targets, under capacity) but choose
differently; `nearest` sends the order to the closest service point that has a person
matching any target of the rule.
`pooled` is not a router: it is the late-binding single-queue ideal (the next free
eligible person takes the oldest waiting order), the reference the Erlang-C floor
models.
"""

from __future__ import annotations

import random
from datetime import date, datetime

from bench import routing
from bench.sim.network import Network, SimStaff
from libs.common import regions
from services.dispatch import domain
from services.dispatch.policy import default_policy


class Policy:
    name = "policy"
    late_binding = False

    def choose(self, order, now: datetime) -> SimStaff | None:  # type: ignore[no-untyped-def]
        raise NotImplementedError


def _eligible_centre(net: Network, order, staff: list[SimStaff]) -> list[SimStaff]:  # type: ignore[no-untyped-def]
    return [
        s
        for s in staff
        if s.view.county_code == order.county_code
        and s.view.tier == "county"
        and routing.fits(s.view.role, s.view.skills, order.service_type, "county")
        and s.view.load < s.view.capacity
        and s.view.slots
    ]


class _Weekdays:
    """The simulated world's calendar: Monday to Friday, no public holidays (its business
    clock and the Erlang floor are Mon–Fri)."""

    def is_workday(self, d: date, /) -> bool:
        return d.weekday() < 5


WEEKDAYS = _Weekdays()


class Lawline(Policy):
    name = "lawline (real decide)"

    def __init__(self, net: Network) -> None:
        self.net = net
        self.by_id = {s.view.id: s for s in net.staff}
        self.routing = default_policy()  # services/dispatch/policy.yaml, as dispatch runs it

    def choose(self, order, now):  # type: ignore[no-untyped-def]
        staff = self.net.routing_staff(order.county_code)
        view = domain.OrderView(
            id=order.id,
            service_type=order.service_type,
            county_code=order.county_code,
            region_code=order.region_code,
        )
        # The simulated world has no public holidays, so decide() is told the same — otherwise
        # it would think the centres closed on days the engine keeps them open.
        decision = domain.decide(view, [s.view for s in staff], now, policy=self.routing, calendar=WEEKDAYS)
        if decision.chosen is None:
            return None
        order.weight = decision.weight  # load counts by complexity band, as dispatch books it
        return self.by_id[decision.chosen.id]


class RoundRobin(Policy):
    name = "round-robin"

    def __init__(self, net: Network) -> None:
        self.net = net
        self.next: dict[tuple[str, str], int] = {}

    def choose(self, order, now):  # type: ignore[no-untyped-def]
        pool = _eligible_centre(
            self.net,
            order,
            self.net.county_staff(order.county_code, routing.roles_for(order.service_type, tier="county")),
        )
        if not pool:
            return None
        key = (order.county_code, order.service_type)
        i = self.next.get(key, 0)
        self.next[key] = i + 1
        return pool[i % len(pool)]


class Random(Policy):
    name = "random"

    def __init__(self, net: Network, seed: int) -> None:
        self.net = net
        self.rng = random.Random(seed)

    def choose(self, order, now):  # type: ignore[no-untyped-def]
        pool = _eligible_centre(
            self.net,
            order,
            self.net.county_staff(order.county_code, routing.roles_for(order.service_type, tier="county")),
        )
        return self.rng.choice(pool) if pool else None


class Nearest(Policy):
    """Village room → township station → county centre: the first with a person whose role
    and skill cover the order (least loaded there), ignoring rosters."""

    name = "nearest service point"

    def __init__(self, net: Network) -> None:
        self.net = net

    def choose(self, order, now):  # type: ignore[no-untyped-def]
        points: list[list[SimStaff]] = []
        region = regions.lookup(order.region_code)
        if region is not None and region.level == "village":
            adviser = self.net.village_adviser.get(region.code)
            points.append([adviser] if adviser else [])
            region = regions.lookup(region.parent) if region.parent else None
        if region is not None and region.level == "township":
            points.append(self.net.by_point_region.get(region.code, []))
        points.append(self.net.centre_pool(order.county_code, order.service_type))
        for people in points:
            fit = [
                s
                for s in people
                if routing.fits(s.view.role, s.view.skills, order.service_type)
                and s.view.load < s.view.capacity
            ]
            if fit:
                return min(fit, key=lambda s: (s.view.load, s.view.name))
        return None


class Pooled(Policy):
    """Reference, not a router: one FCFS queue per county-centre pool, late binding."""

    name = "pooled FCFS (ideal reference)"
    late_binding = True

    def __init__(self, net: Network) -> None:
        self.net = net

    def choose(self, order, now):  # type: ignore[no-untyped-def]
        return None
