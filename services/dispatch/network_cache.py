"""Routing's view of the service network, cached per database engine in each process.

Everything routing reads about people except their load changes only through admin
endpoints, seeds or migrations: who works where, role, skills, capacity, weekly duty
slots, dated roster exceptions, leave, today's sign-in/out, and the holiday calendar.
Database triggers bump `network_version` in every such transaction (migration 0004), so
one query per order — the county's loads (active_load, last_assigned_at) and the version,
on one snapshot — tells whether the cached network is current. If it is not, the whole
network is reloaded (a handful of Core queries) before routing. Two instances, a seed or
a hand-made UPDATE are covered alike; no message passes between instances.

A reload is never staler than the version it is filed under: the version is read first,
the rows after it, so at worst the rows are newer and the next order reloads once more.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.calendar import FrozenCalendar, WorkCalendar
from libs.common.clock import CHINA_TZ
from libs.common.fastsql import FastStatement
from services.dispatch import domain
from services.dispatch.models import (
    DutySlot,
    Leave,
    NetworkVersion,
    RosterException,
    ServicePoint,
    Staff,
)
from services.dispatch.network import load_calendar, signed_in_state

STAFF, POINTS, VERSION = Staff.__table__, ServicePoint.__table__, NetworkVersion.__table__


@dataclass(frozen=True)
class Person:
    """An active staff member as routing sees them, except what changes with every offer."""

    code: str
    template: domain.StaffView  # load 0; never handed to decide(), copies are
    signed_in_at: datetime | None
    signed_out_at: datetime | None
    exceptions: tuple[domain.DatedSlot, ...]
    leave: tuple[tuple[date, date], ...]

    def view(
        self, now: datetime, today: date, load: int, last_assigned_at: datetime | None
    ) -> domain.StaffView:
        t = self.template
        exceptions: list[domain.DatedSlot] = []
        if self.exceptions:  # as the uncached read did: within the duty horizon only
            horizon = today + timedelta(days=domain.HORIZON_DAYS)
            exceptions = [e for e in self.exceptions if today <= e.day <= horizon]
        # Positional, not copy.copy(template): ~100 of these per order, this is 3× cheaper.
        return domain.StaffView(
            t.id, t.name, t.role, t.skills, t.service_point_id, t.service_point_name, t.tier,
            t.county_code, t.capacity, load, t.slots, last_assigned_at, t.levels, t.region_code,
            t.parent_point_id, t.languages, exceptions,
            [(a, b) for a, b in self.leave if b >= today] if self.leave else [],
            signed_in_state(self.signed_in_at, self.signed_out_at, now), t.active,
        )  # fmt: skip


@dataclass
class NetworkSnapshot:
    version: int
    day: date  # the local date it was loaded on: exceptions and leave are read from that day on
    calendar: FrozenCalendar
    people: dict[str, Person]
    _counties: dict[str, list[Person]] = field(default_factory=dict)

    def of_county(self, county_code: str) -> list[Person]:
        """The county's own people and the city centre's (county_code NULL), by staff code."""
        found = self._counties.get(county_code)
        if found is None:
            found = sorted(
                (p for p in self.people.values() if p.template.county_code in (county_code, None)),
                key=lambda p: p.code,
            )
            self._counties[county_code] = found
        return found


@dataclass
class RoutingNetwork:
    """One order's network: the cached snapshot plus this moment's loads."""

    snapshot: NetworkSnapshot
    county_code: str
    loads: dict[str, tuple[int, datetime | None]]

    @property
    def calendar(self) -> WorkCalendar:
        return self.snapshot.calendar

    async def staff(
        self, session: AsyncSession, *, now: datetime, also: Iterable[str] = ()
    ) -> list[domain.StaffView]:
        """Everyone routing may consider: the county's people, the city centre, and named
        extras (a follow-up's previous handler, who may work in another county)."""
        people = list(self.snapshot.of_county(self.county_code))
        extra = [self.snapshot.people[x] for x in also if x in self.snapshot.people and x not in self.loads]
        if extra:
            rows = await session.execute(
                select(STAFF.c.id, STAFF.c.active_load, STAFF.c.last_assigned_at).where(
                    STAFF.c.id.in_([uuid.UUID(p.template.id) for p in extra])
                )
            )
            self.loads.update({str(r.id): (r.active_load, r.last_assigned_at) for r in rows})
            people = sorted(people + extra, key=lambda p: p.code)
        today = now.astimezone(CHINA_TZ).date()
        return [p.view(now, today, *self.loads[p.template.id]) for p in people if p.template.id in self.loads]


# ---- the per-order read ------------------------------------------------------------

# The county's loads and the network version in one statement (one round trip). The
# outer join keeps the version row when a county has nobody at all.
_LOADS = FastStatement(
    select(VERSION.c.version, STAFF.c.id, STAFF.c.active_load, STAFF.c.last_assigned_at)
    .select_from(
        VERSION.outerjoin(
            STAFF,
            and_(
                STAFF.c.active,
                or_(STAFF.c.county_code == bindparam("county"), STAFF.c.county_code.is_(None)),
            ),
        )
    )
    .where(VERSION.c.id == 1)
)


async def routing_network(session: AsyncSession, *, county_code: str, now: datetime) -> RoutingNetwork:
    rows = await _LOADS.fetch(session, {"county": county_code})
    version = rows[0][0]
    loads = {str(r[1]): (r[2], r[3]) for r in rows if r[1] is not None}  # id: (load, last assigned)
    snapshot = await _current(session, version, now.astimezone(CHINA_TZ).date())
    return RoutingNetwork(snapshot, county_code, loads)


# ---- the cache ---------------------------------------------------------------------


@dataclass
class _Cache:
    snapshot: NetworkSnapshot | None = None
    # One reload at a time: after a change every lane of the consumer would reload at once.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


# Per engine (one per service instance, and one per test database), dropped with it.
_CACHES: weakref.WeakKeyDictionary[Engine, _Cache] = weakref.WeakKeyDictionary()


def _cache_of(session: AsyncSession) -> _Cache:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    cache = _CACHES.get(engine)
    if cache is None:
        cache = _CACHES[engine] = _Cache()
    return cache


def _fresh(snap: NetworkSnapshot | None, version: int, today: date) -> bool:
    # A newer snapshot than the version this order read is fine: it is only more current.
    return snap is not None and snap.version >= version and snap.day == today


async def _current(session: AsyncSession, version: int, today: date) -> NetworkSnapshot:
    cache = _cache_of(session)
    if _fresh(cache.snapshot, version, today):
        return cache.snapshot  # type: ignore[return-value]
    async with cache.lock:
        if not _fresh(cache.snapshot, version, today):  # another lane may have reloaded meanwhile
            cache.snapshot = await load_snapshot(session, today)
    return cache.snapshot  # type: ignore[return-value]


async def load_snapshot(session: AsyncSession, today: date) -> NetworkSnapshot:
    """The whole city's network as of now (the version first: see the module docstring)."""
    version = await session.scalar(select(NetworkVersion.version).where(NetworkVersion.id == 1))
    staff = await _active_staff(session)
    slots = await _duty_slots(session)
    exceptions = await _roster_exceptions(session, today)
    leave = await _leave(session, today)
    # The shared loader, its version checked now: the snapshot is reloaded only when something
    # changed, and then its calendar must be current (libs.common.calendar_store).
    calendar = await load_calendar(session, fresh=True)
    people = {}
    for s in staff:
        person = _person(s, slots.get(s.id, []), exceptions.get(s.id, ()), leave.get(s.id, ()))
        people[person.template.id] = person
    return NetworkSnapshot(version=int(version or 0), day=today, calendar=calendar, people=people)


async def _active_staff(session: AsyncSession) -> Sequence[Any]:
    return (
        await session.execute(
            select(
                STAFF.c.id,
                STAFF.c.code,
                STAFF.c.name,
                STAFF.c.role,
                STAFF.c.skills,
                STAFF.c.county_code,
                STAFF.c.capacity,
                STAFF.c.levels,
                STAFF.c.languages,
                STAFF.c.signed_in_at,
                STAFF.c.signed_out_at,
                POINTS.c.id.label("point_id"),
                POINTS.c.name.label("point_name"),
                POINTS.c.tier,
                POINTS.c.region_code,
                POINTS.c.parent_id,
            )  # fmt: skip
            .join(POINTS, STAFF.c.service_point_id == POINTS.c.id)
            .where(STAFF.c.active)
        )
    ).all()


async def _duty_slots(session: AsyncSession) -> dict[uuid.UUID, list[domain.Slot]]:
    slots: dict[uuid.UUID, list[domain.Slot]] = {}
    for r in await session.execute(
        select(DutySlot.staff_id, DutySlot.weekday, DutySlot.start, DutySlot.end, DutySlot.kind)
    ):
        slots.setdefault(r.staff_id, []).append(domain.Slot(r.weekday, r.start, r.end, r.kind))
    return slots


async def _roster_exceptions(session: AsyncSession, today: date) -> dict[uuid.UUID, list[domain.DatedSlot]]:
    exceptions: dict[uuid.UUID, list[domain.DatedSlot]] = {}
    for x in await session.execute(
        select(
            RosterException.staff_id,
            RosterException.day,
            RosterException.kind,
            RosterException.start,
            RosterException.end,
        ).where(RosterException.day >= today)
    ):
        exceptions.setdefault(x.staff_id, []).append(domain.DatedSlot(x.day, x.kind, x.start, x.end))
    return exceptions


async def _leave(session: AsyncSession, today: date) -> dict[uuid.UUID, list[tuple[date, date]]]:
    leave: dict[uuid.UUID, list[tuple[date, date]]] = {}
    for lv in await session.execute(
        select(Leave.staff_id, Leave.start_date, Leave.end_date).where(
            Leave.end_date >= today, Leave.cancelled.is_(False)
        )
    ):
        leave.setdefault(lv.staff_id, []).append((lv.start_date, lv.end_date))
    return leave


def _person(
    s: Any,
    slots: list[domain.Slot],
    exceptions: Iterable[domain.DatedSlot],
    leave: Iterable[tuple[date, date]],
) -> Person:
    """One active staff member's row as the snapshot holds it (load worked out per call)."""
    template = domain.StaffView(
        id=str(s.id),
        name=s.name,
        role=s.role,
        skills=frozenset(s.skills),
        service_point_id=str(s.point_id),
        service_point_name=s.point_name,
        tier=s.tier,
        county_code=s.county_code,
        capacity=s.capacity,
        load=0,
        slots=slots,
        levels=dict(s.levels or {}),
        region_code=s.region_code,
        parent_point_id=str(s.parent_id) if s.parent_id else None,
        languages=tuple(s.languages or ()),
        active=True,
    )
    return Person(
        code=s.code,
        template=template,
        signed_in_at=s.signed_in_at,
        signed_out_at=s.signed_out_at,
        exceptions=tuple(exceptions),
        leave=tuple(leave),
    )
