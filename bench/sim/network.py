"""The simulated network: the demo staff of libs.common.demo_network as the dispatch
service sees them (StaffView with real rosters), plus the business clock of the county
centres (Mon–Fri 08:30–17:30 local) in which waits and SLAs are measured."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from bench import routing
from libs.common import demo_network, regions
from libs.common.clock import CHINA_TZ
from services.dispatch import domain

OPEN, CLOSE = time(8, 30), time(17, 30)  # county centres' roster (demo_network.WEEKDAYS_9_TO_5)
BUSINESS_DAY_S = 9 * 3600


@dataclass
class SimStaff:
    view: domain.StaffView
    point_region: str
    queue: list = field(default_factory=list)  # FIFO of orders bound to this person
    busy: bool = False
    busy_s: float = 0.0
    handled: int = 0
    current: object | None = None  # the order being handled


@dataclass
class Network:
    staff: list[SimStaff]
    by_county_role: dict[tuple[str, str], list[SimStaff]]
    by_point_region: dict[str, list[SimStaff]]
    city: list[SimStaff]
    village_adviser: dict[str, SimStaff]  # village code → the adviser serving its room group

    _routing: dict[str, list[SimStaff]] = field(default_factory=dict)

    def county_staff(self, county: str, roles: tuple[str, ...]) -> list[SimStaff]:
        """This county's staff with one of these roles (the baselines' candidate lists)."""
        out: list[SimStaff] = []
        for r in roles:
            out.extend(self.by_county_role.get((county, r), []))
        out.sort(key=lambda s: s.view.name)
        return out

    def routing_staff(self, county: str) -> list[SimStaff]:
        """What dispatch's network_cache hands to decide() for an order of this county: the
        county's own staff (every role — the policy decides who fits) and the city centre,
        ordered by staff code."""
        if county not in self._routing:
            own = [s for (c, _r), people in self.by_county_role.items() if c == county for s in people]
            self._routing[county] = sorted(own + self.city, key=lambda s: s.view.name)
        return self._routing[county]

    def centre_pool(self, county: str, service_type: str) -> list[SimStaff]:
        """The pooled eligible staff of the Erlang-C floor: county-centre people whose role
        and skill match a county-tier target of the policy rule decide() applies."""
        roles = routing.roles_for(service_type, tier="county")
        return [
            s
            for s in self.county_staff(county, roles)
            if s.view.tier == "county" and routing.fits(s.view.role, s.view.skills, service_type, "county")
        ]


def build() -> Network:
    _, people = demo_network.build()
    staff: list[SimStaff] = []
    by_county_role: dict[tuple[str, str], list[SimStaff]] = defaultdict(list)
    by_point: dict[str, list[SimStaff]] = defaultdict(list)
    city: list[SimStaff] = []
    for p in people:
        view = domain.StaffView(
            id=str(p.id),
            name=p.code,  # codes are unique and sort like the service's ORDER BY Staff.code
            role=p.role,
            skills=frozenset(p.skills),
            service_point_id=str(p.point.id),
            service_point_name=p.point.name,
            tier=p.point.tier,
            county_code=p.point.county_code,
            capacity=p.capacity,
            load=0,
            slots=[domain.Slot(d, a, b) for d, a, b in p.slots]
            + [domain.Slot(d, a, b, "on_call") for d, a, b in p.on_call],
            last_assigned_at=None,
            levels=demo_network.skill_levels(p),
            region_code=p.point.region_code,
            parent_point_id=str(p.point.parent_id) if p.point.parent_id else None,
            languages=tuple(p.languages),
        )
        s = SimStaff(view, p.point.region_code)
        staff.append(s)
        by_point[p.point.region_code].append(s)
        if p.point.county_code is None:
            city.append(s)
        else:
            by_county_role[(p.point.county_code, p.role)].append(s)
    advisers: dict[str, SimStaff] = {}
    for county in regions.counties():
        for town in regions.children(county.code):
            villages = regions.children(town.code)
            for i in range(0, len(villages), 5):
                group = villages[i : i + 5]
                for adviser in by_point.get(group[0].code, []):
                    for v in group:
                        advisers[v.code] = adviser
    return Network(staff, dict(by_county_role), dict(by_point), city, advisers)


def _local(t: datetime) -> datetime:
    return t.astimezone(CHINA_TZ)


def business_seconds(t0: datetime, t1: datetime) -> float:
    """Seconds of county-centre opening time (Mon–Fri 08:30–17:30 local) in [t0, t1)."""
    if t1 <= t0:
        return 0.0
    a, b = _local(t0), _local(t1)
    total = 0.0
    day = a.date()
    while day <= b.date():
        if day.weekday() < 5:
            lo = max(a, datetime.combine(day, OPEN, tzinfo=CHINA_TZ))
            hi = min(b, datetime.combine(day, CLOSE, tzinfo=CHINA_TZ))
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total


def is_open(t: datetime) -> bool:
    lt = _local(t)
    return lt.weekday() < 5 and OPEN <= lt.time() < CLOSE


def next_open(t: datetime) -> datetime:
    """The first opening instant at or after t."""
    lt = _local(t)
    if is_open(lt):
        return lt
    day = lt.date()
    for _ in range(8):
        start = datetime.combine(day, OPEN, tzinfo=CHINA_TZ)
        if day.weekday() < 5 and start >= lt:
            return start
        day += timedelta(days=1)
    raise AssertionError("no opening within a week")


def shift_starts(slots: list[domain.Slot], start: datetime, end: datetime) -> list[datetime]:
    """Every start of an on-duty slot in [start, end)."""
    out: list[datetime] = []
    day = _local(start).date()
    while datetime.combine(day, time(0), tzinfo=CHINA_TZ) < end:
        for s in slots:
            if s.weekday == day.weekday():
                at = datetime.combine(day, s.start, tzinfo=CHINA_TZ)
                if start <= at < end:
                    out.append(at)
        day += timedelta(days=1)
    return out


def on_duty_seconds(slots: list[domain.Slot], start: datetime, end: datetime) -> float:
    total = 0.0
    day = _local(start).date()
    while datetime.combine(day, time(0), tzinfo=CHINA_TZ) < end:
        for s in slots:
            if s.weekday == day.weekday():
                lo = max(start, datetime.combine(day, s.start, tzinfo=CHINA_TZ))
                hi = min(end, datetime.combine(day, s.end, tzinfo=CHINA_TZ))
                if hi > lo:
                    total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total
