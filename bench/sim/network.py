"""The simulated network: the demo staff of libs.common.demo_network as the dispatch
service sees them (StaffView with real rosters), plus the business clock of the county
centres (Mon–Fri 08:30–17:30 local) in which waits and SLAs are measured."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

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


@dataclass
class Network:
    staff: list[SimStaff]
    by_county_role: dict[tuple[str, str], list[SimStaff]]
    by_point_region: dict[str, list[SimStaff]]
    city: list[SimStaff]
    village_adviser: dict[str, SimStaff]  # village code → the adviser serving its room group

    def county_staff(self, county: str, roles: tuple[str, ...]) -> list[SimStaff]:
        """What dispatch's _staff_views loads: this county's active staff with an eligible role."""
        out: list[SimStaff] = []
        for r in roles:
            out.extend(self.by_county_role.get((county, r), []))
        out.sort(key=lambda s: s.view.name)
        return out

    def centre_pool(self, county: str, service_type: str) -> list[SimStaff]:
        """The pooled eligible staff of the Erlang-C floor: county-centre people whose role
        and skill both cover the service type (the same test decide() applies)."""
        roles = domain.eligible_roles(service_type)
        return [
            s
            for s in self.county_staff(county, roles)
            if s.view.tier == "county" and service_type in s.view.skills
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
            slots=[domain.Slot(d, a, b) for d, a, b in p.slots],
            last_assigned_at=None,
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
