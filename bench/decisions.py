"""Decisions per second of the pure routing code, services.dispatch.domain.decide,
on a synthetic 10,000-person network (StaffView built by keyword), with the shipped
policy (services/dispatch/policy.yaml).

Two shapes: the list dispatch actually passes (network_cache.RoutingNetwork.staff: one county's
people, every role, ~10,000/12 counties; the synthetic network has no city centre) and
the worst case of all 10,000 people in one call. Orders are plain (no description) at
a village address, so the policy's first target is the village room and decide()
relaxes outwards when nobody fits there. Bounded by count and time."""

from __future__ import annotations

import random
import time
from datetime import datetime
from datetime import time as dtime

from libs.common import regions
from libs.common.calendar import DEFAULT_CALENDAR
from libs.common.clock import CHINA_TZ
from services.dispatch import domain
from services.dispatch.policy import default_policy

ROLES = ["lawyer", "legal_worker", "mediator", "aid_officer", "notary"]
SKILLS = ["consultation", "legal_aid", "mediation", "notarization", "lawyer_referral"]
TIERS = ["county", "township", "village"]


def synthetic_staff(n: int = 10_000, seed: int = 10_000) -> list[domain.StaffView]:
    rng = random.Random(seed)
    counties = [c.code for c in regions.counties()]
    places = {c: _places(c) for c in counties}
    staff = []
    for i in range(n):
        role = rng.choice(ROLES)
        tier = rng.choices(TIERS, weights=[2, 3, 5])[0]
        county = rng.choice(counties)
        days = rng.sample(range(7), rng.choice([1, 2, 5]))
        start = rng.choice([dtime(8, 30), dtime(9, 0), dtime(14, 0)])
        end = dtime(min(start.hour + rng.choice([3, 4, 9]), 23), 0)
        staff.append(
            domain.StaffView(
                id=f"s{i:05d}",
                name=f"人员{i:05d}",
                role=role,
                skills=frozenset(rng.sample(SKILLS, rng.choice([1, 2, 3]))),
                service_point_id=f"p{i // 8:04d}",
                service_point_name=f"服务点{i // 8:04d}",
                tier=tier,
                county_code=county,
                region_code=county if tier == "county" else rng.choice(places[county][tier]),
                levels={k: rng.randint(1, 5) for k in SKILLS},
                capacity=rng.choice([5, 8, 12]),
                load=rng.randrange(0, 10),
                slots=[domain.Slot(weekday=d, start=start, end=end) for d in days],
                last_assigned_at=None
                if rng.random() < 0.3
                else datetime(2026, 11, 23, rng.randrange(8, 18), tzinfo=CHINA_TZ),
            )
        )
    return staff


def _places(county: str) -> dict[str, list[str]]:
    towns = [t.code for t in regions.children(county)] or [county]
    villages = [v.code for t in towns for v in regions.children(t)] or towns
    return {"township": towns, "village": villages}


def measure(seconds: float = 3.0, max_calls: int = 200_000, n: int = 10_000) -> dict:
    staff = synthetic_staff(n)
    counties = [c.code for c in regions.counties()]
    services = ["consultation", "legal_aid", "mediation", "notarization"]
    rng = random.Random(1)
    now = datetime(2026, 11, 24, 10, 30, tzinfo=CHINA_TZ)  # a Tuesday morning
    by_county = {c: [x for x in staff if x.county_code == c] for c in counties}
    villages = {c: _places(c)["village"] for c in counties}
    policy = default_policy()
    out = {"network": n}
    for shape in ("county_slice", "all_10k"):
        calls, chosen = 0, 0
        t0 = time.perf_counter()
        deadline = t0 + seconds
        while calls < max_calls and time.perf_counter() < deadline:
            c, s = rng.choice(counties), rng.choice(services)
            order = domain.OrderView(
                id=f"o{calls}", service_type=s, county_code=c, region_code=rng.choice(villages[c])
            )
            people = by_county[c] if shape == "county_slice" else staff
            d = domain.decide(order, people, now, policy=policy, calendar=DEFAULT_CALENDAR)
            calls += 1
            chosen += d.chosen is not None
        elapsed = time.perf_counter() - t0
        sizes = [len(v) for v in by_county.values()]
        out[shape] = {
            "decisions_per_s": round(calls / elapsed, 1),
            "us_per_decision": round(elapsed / calls * 1e6, 1),
            "calls": calls,
            "chosen_share": round(chosen / calls, 3),
            "staff_per_call": round(sum(sizes) / len(sizes), 1) if shape == "county_slice" else n,
        }
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(measure(2.0), indent=2))
