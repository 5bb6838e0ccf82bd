"""Heap-based discrete-event engine: arrivals, per-person FIFO queues, rosters, handling.

An order is bound to a person at arrival (the policy's choice, as dispatch offers it) and
handled when that person is on duty and free; handling is never interrupted (overtime
past the end of a slot is allowed). Offers are accepted at once: the simulation studies
the routing choice, not acceptance behaviour. An order nobody may take is escalated to
the parent tier — the city centre — where the people with the skill serve one FCFS queue.
Service times are drawn once per order (common random numbers), so every policy sees the
same work.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bench.sim.arrivals import Arrival, lognormal_params
from bench.sim.network import Network, SimStaff, shift_starts
from bench.sim.policies import Policy
from libs.common.clock import CHINA_TZ
from services.dispatch import domain

# Handling time (minutes): mean and standard deviation of a lognormal, by service type.
DEFAULT_HANDLING = {"consultation": (20.0, 15.0), "legal_aid": (45.0, 30.0)}


@dataclass
class SimOrder:
    id: str
    at: datetime
    service_type: str
    county_code: str
    region_code: str
    service_s: float
    start: datetime | None = None
    staff: SimStaff | None = None
    escalated: bool = False
    weight: int = 1  # load units against capacity (the policy's weight of its complexity band)


@dataclass
class Outcome:
    orders: list[SimOrder]
    net: Network
    escalations: int
    decide_calls: int = 0
    pools: dict[tuple[str, str], deque] = field(default_factory=dict)


def make_orders(
    arrivals: list[Arrival], seed: int, handling: dict[str, tuple[float, float]]
) -> list[SimOrder]:
    rng = random.Random(seed ^ 0x5EED)
    params = {k: lognormal_params(m * 60, sd * 60) for k, (m, sd) in handling.items()}
    out = []
    for i, a in enumerate(arrivals):
        mu, sigma = params[a.service_type]
        out.append(
            SimOrder(
                f"o{i:06d}", a.at, a.service_type, a.county_code, a.region_code, rng.lognormvariate(mu, sigma)
            )
        )
    return out


def simulate(net: Network, policy: Policy, orders: list[SimOrder], start: datetime, days: int) -> Outcome:
    seq = itertools.count()
    heap: list[tuple[float, int, str, object]] = []
    for o in orders:
        heapq.heappush(heap, (o.at.timestamp(), next(seq), "arrive", o))
    # Shift starts wake people who have work waiting; the tail lets queues drain after the horizon.
    end = start + timedelta(days=days + 21)
    for s in net.staff:
        for at in shift_starts(s.view.slots, start, end):
            heapq.heappush(heap, (at.timestamp(), next(seq), "shift", s))

    pools: dict[tuple[str, str], deque] = defaultdict(deque)  # late-binding FCFS queues
    member_of: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for s in net.city:
        for st in s.view.skills:
            member_of[s.view.id].append(("city", st))
    if policy.late_binding:
        counties = {o.county_code for o in orders}
        for c in counties:
            for st in ("consultation", "legal_aid"):
                for s in net.centre_pool(c, st):
                    member_of[s.view.id].append((c, st))
    pool_members: dict[tuple[str, str], list[SimStaff]] = defaultdict(list)
    by_id = {s.view.id: s for s in net.staff}
    for sid, keys in member_of.items():
        for k in keys:
            pool_members[k].append(by_id[sid])

    escalations = 0

    def try_start(s: SimStaff, now: datetime) -> bool:
        if s.busy or not domain.on_duty(s.view.slots, now):
            return False
        order: SimOrder | None = None
        if s.queue:
            order = s.queue.pop(0)
        else:
            waiting = [pools[k] for k in member_of.get(s.view.id, ()) if pools.get(k)]
            if waiting:
                q = min(waiting, key=lambda q: q[0].at)
                order = q.popleft()
                order.staff = s
                s.view.load += order.weight
                s.view.last_assigned_at = now
        if order is None:
            return False
        s.busy = True
        s.current = order
        order.start = now
        s.busy_s += order.service_s
        s.handled += 1
        done = now + timedelta(seconds=order.service_s)
        heapq.heappush(heap, (done.timestamp(), next(seq), "finish", s))
        return True

    def to_pool(key: tuple[str, str], order: SimOrder, now: datetime) -> None:
        pools[key].append(order)
        for s in sorted(pool_members.get(key, ()), key=_idle_key):
            if try_start(s, now):
                break

    while heap:
        ts, _, kind, obj = heapq.heappop(heap)
        now = datetime.fromtimestamp(ts, CHINA_TZ)
        if kind == "arrive":
            order = obj
            assert isinstance(order, SimOrder)
            if policy.late_binding:
                to_pool((order.county_code, order.service_type), order, now)
                continue
            chosen = policy.choose(order, now)
            if chosen is None:
                escalations += 1
                order.escalated = True
                to_pool(("city", order.service_type), order, now)
                continue
            order.staff = chosen
            chosen.queue.append(order)
            chosen.view.load += order.weight
            chosen.view.last_assigned_at = now
            try_start(chosen, now)
        elif kind == "finish":
            s = obj
            assert isinstance(s, SimStaff)
            s.busy = False
            s.view.load -= getattr(s.current, "weight", 1)
            s.current = None
            try_start(s, now)
        else:
            s = obj
            assert isinstance(s, SimStaff)
            try_start(s, now)
    unserved = [o for o in orders if o.start is None]
    if unserved:
        raise RuntimeError(f"{len(unserved)} orders never served (first: {unserved[0]})")
    return Outcome(orders, net, escalations, pools=dict(pools))


def _idle_key(s: SimStaff) -> tuple:
    last = s.view.last_assigned_at
    return (last.timestamp() if last else -math.inf, s.view.name)
