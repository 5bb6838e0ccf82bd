"""What the simulation reports, and the queueing-theory floor it is judged against.

Waits are measured in county-centre opening time (Mon–Fri 08:30–17:30): the night and
the weekend are not a routing failure. SLA: handling starts within one working day
(9 opening hours — the hotline rule "transfer within 1 working day", DOMAIN.md).

Erlang-C floor, per county-centre pool p = (county, service type) with c_p eligible
people (role and skill as decide() tests them):
  * an order arriving while the centre is open, in hour-of-week h, is charged the mean
    wait of c_p pooled servers at that hour's calibrated arrival rate λ_h
    (pointwise-stationary Erlang C): Wq = C(c, a)·E[S]/(c − a), a = λ_h·E[S], scaled by
    (1 + CV²)/2 for lognormal handling times (Allen–Cunneen, M/G/c);
  * orders arriving while it is closed meet the c_p people together at the next
    opening: the k-th of a batch of B is charged ⌊k/c⌋·E[S] (fluid clearing).
floor = Σ charges / N over all orders. efficiency = floor ÷ observed mean wait.
The floor ignores interactions between the morning batch and later arrivals, so it is
a slightly optimistic floor: efficiency is, if anything, understated.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import datetime, timedelta

from bench.sim.arrivals import hourly_rate, week_profile
from bench.sim.engine import Outcome
from bench.sim.network import BUSINESS_DAY_S, business_seconds, is_open, next_open, on_duty_seconds
from bench.stats import batch_clear_wait, erlang_c_wait, gini, percentile
from libs.common.clock import CHINA_TZ


def erlang_floor(
    outcome: Outcome,
    volumes: dict[str, dict[str, float]],
    handling: dict[str, tuple[float, float]],
    *,
    general: bool = True,
) -> dict:
    profile = week_profile()
    charges: dict[tuple[str, str], list[float]] = defaultdict(list)
    batches: dict[tuple[str, str], Counter] = defaultdict(Counter)
    sizes: dict[tuple[str, str], int] = {}
    for o in outcome.orders:
        key = (o.county_code, o.service_type)
        if key not in sizes:
            sizes[key] = len(outcome.net.centre_pool(*key))
        c = sizes[key]
        mean_s = handling[o.service_type][0] * 60
        cv2 = (handling[o.service_type][1] / handling[o.service_type][0]) ** 2 if general else 1.0
        if is_open(o.at):
            lt = o.at.astimezone(CHINA_TZ)
            lam = (
                hourly_rate(volumes[o.county_code][o.service_type], profile, lt.weekday() * 24 + lt.hour)
                / 3600
            )
            charges[key].append(erlang_c_wait(c, lam, mean_s, cv2))
        else:
            batches[key][next_open(o.at)] += 1
    for key, by_opening in batches.items():
        mean_s = handling[key[1]][0] * 60
        for b in by_opening.values():
            charges[key].extend([batch_clear_wait(b, sizes[key], mean_s)] * b)
    total = [w for ws in charges.values() for w in ws]
    return {
        "floor_mean_wait_s": sum(total) / len(total) if total else 0.0,
        "pools": len(charges),
        "pool_sizes": sorted(Counter(sizes.values()).items()),
    }


def report(
    name: str,
    outcome: Outcome,
    floor: dict,
    start: datetime,
    days: int,
) -> dict:
    orders = outcome.orders
    waits = [business_seconds(o.at, o.start) for o in orders]  # type: ignore[arg-type]
    calendar = [(o.start - o.at).total_seconds() for o in orders]  # type: ignore[operator]
    mean_wait = sum(waits) / len(waits)
    end = start + timedelta(days=days)
    net = outcome.net
    # Utilisation and fairness over the county-centre pools (the people the floor pools).
    util, gini_w, n_w = [], 0.0, 0
    seen: set[str] = set()
    by_pool: dict[tuple[str, str], int] = Counter((o.county_code, o.service_type) for o in orders)
    for key, n in by_pool.items():
        pool = net.centre_pool(*key)
        gini_w += gini([s.busy_s for s in pool]) * n
        n_w += n
        for s in pool:
            if s.view.id not in seen:
                seen.add(s.view.id)
                duty = on_duty_seconds(s.view.slots, start, end)
                util.append(s.busy_s / duty if duty else 0.0)
    handled_elsewhere = sum(1 for o in orders if o.staff is not None and o.staff.view.tier != "county")
    eff = floor["floor_mean_wait_s"] / mean_wait if mean_wait > 0 else math.inf
    # Where orders went and how long they waited there, split by whether they arrived while
    # the centres were open — shows which part of the routing the waits come from.
    where: dict[str, list[float]] = defaultdict(list)
    for o, w in zip(orders, waits, strict=True):
        tier = o.staff.view.tier if o.staff is not None else "none"
        where[f"{tier}/{'open' if is_open(o.at) else 'closed'}"].append(w)
    by_tier = {
        k: {"orders": len(v), "mean_wait_min": round(sum(v) / len(v) / 60, 2)}
        for k, v in sorted(where.items())
    }
    return {
        "policy": name,
        "orders": len(orders),
        "mean_wait_min": round(mean_wait / 60, 2),
        "p90_wait_min": round(percentile(waits, 90) / 60, 2),
        "mean_calendar_wait_h": round(sum(calendar) / len(calendar) / 3600, 2),
        "sla_1_working_day": round(sum(w <= BUSINESS_DAY_S for w in waits) / len(waits), 4),
        "within_1_working_hour": round(sum(w <= 3600 for w in waits) / len(waits), 4),
        "escalations": outcome.escalations,
        "handled_outside_county_centre": handled_elsewhere,
        "centre_utilisation_mean": round(sum(util) / len(util), 4) if util else 0.0,
        "centre_utilisation_max": round(max(util), 4) if util else 0.0,
        "load_gini": round(gini_w / n_w, 4) if n_w else 0.0,
        "erlang_floor_mean_wait_min": round(floor["floor_mean_wait_s"] / 60, 3),
        "efficiency": round(eff, 3),
        "by_tier_arrival": by_tier,
    }
