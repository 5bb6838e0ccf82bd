"""Routing policies compared by the simulation.

`lawline` calls the REAL services.dispatch.domain.decide with the staff list the
dispatch service would load (the order's county, eligible roles) and their live load
and last-assignment time. The baselines use the same eligibility test decide() applies
(county centre, role, skill, under capacity) but choose differently; `nearest` sends the
order to the closest service point that has a person with the role and skill.
`pooled` is not a router: it is the late-binding single-queue ideal (the next free
eligible person takes the oldest waiting order), the reference the Erlang-C floor
models.
"""

from __future__ import annotations

import random
from datetime import datetime

from bench.sim.network import Network, SimStaff
from libs.common import regions
from services.dispatch import domain


class Policy:
    name = "policy"
    late_binding = False

    def choose(self, order, now: datetime) -> SimStaff | None:  # type: ignore[no-untyped-def]
        raise NotImplementedError


def _eligible_centre(net: Network, order, staff: list[SimStaff]) -> list[SimStaff]:  # type: ignore[no-untyped-def]
    roles = domain.eligible_roles(order.service_type)
    return [
        s
        for s in staff
        if s.view.county_code == order.county_code
        and s.view.tier == "county"
        and s.view.role in roles
        and order.service_type in s.view.skills
        and s.view.load < s.view.capacity
        and s.view.slots
    ]


class Lawline(Policy):
    name = "lawline (real decide)"

    def __init__(self, net: Network) -> None:
        self.net = net
        self.by_id = {s.view.id: s for s in net.staff}

    def choose(self, order, now):  # type: ignore[no-untyped-def]
        roles = domain.eligible_roles(order.service_type)
        staff = self.net.county_staff(order.county_code, roles)
        decision = domain.decide(
            domain.OrderView(order.id, order.service_type, order.county_code), [s.view for s in staff], now
        )
        return self.by_id[decision.chosen.id] if decision.chosen else None


class RoundRobin(Policy):
    name = "round-robin"

    def __init__(self, net: Network) -> None:
        self.net = net
        self.next: dict[tuple[str, str], int] = {}

    def choose(self, order, now):  # type: ignore[no-untyped-def]
        pool = _eligible_centre(
            self.net,
            order,
            self.net.county_staff(order.county_code, domain.eligible_roles(order.service_type)),
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
            self.net.county_staff(order.county_code, domain.eligible_roles(order.service_type)),
        )
        return self.rng.choice(pool) if pool else None


class Nearest(Policy):
    """Village room → township station → county centre: the first with a person whose role
    and skill cover the order (least loaded there), ignoring rosters."""

    name = "nearest service point"

    def __init__(self, net: Network) -> None:
        self.net = net

    def choose(self, order, now):  # type: ignore[no-untyped-def]
        roles = domain.eligible_roles(order.service_type)
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
                if s.view.role in roles
                and order.service_type in s.view.skills
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
