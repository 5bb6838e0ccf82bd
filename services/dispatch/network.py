"""The service network and its people: availability and calendar events, seeding (routing
reads the network through network_cache).
Keyword-only; never commits. Every change to a person's availability (roster, sign-in/out,
leave, staff record) emits dispatch.staff_availability keyed by county, in the same
transaction — the mediation service keeps mediator availability from these events. A change
to the staff record itself (added; name, role, home point, active) also emits
dispatch.staff_changed — identity keeps each person's login from those.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common import demo_network as demo
from libs.common.calendar import FrozenCalendar
from libs.common.calendar_store import CalendarStore
from libs.common.clock import CHINA_TZ
from libs.common.events import dispatch as ev
from libs.common.events.envelope import make_event
from libs.common.events.topics import DISPATCH, topic
from libs.common.orm import get_present
from libs.common.outbox import notify_channel
from libs.common.pipeline_tables import claim_state
from libs.common.publisher import Publisher, prepare
from services.dispatch import domain
from services.dispatch.models import (
    CalendarYear,
    DutySlot,
    Leave,
    ServicePoint,
    Staff,
    outbox,
)

SERVICE = "dispatch"
PUBLISHER = Publisher(outbox, SERVICE)
CALENDAR_KEY = "calendar"
# Dispatch is the writer of the holiday years (admin.put_calendar_year) and reads them through the
# same cached loader as every copy (libs.common.calendar_store).
CALENDAR = CalendarStore(CalendarYear)


async def load_calendar(session: AsyncSession, *, fresh: bool = False) -> FrozenCalendar:
    """The admin-entered years win; chinese-calendar and the warned fallback cover the rest."""
    return await CALENDAR.load_calendar(session, fresh=fresh)


def signed_in_state(
    signed_in_at: datetime | None, signed_out_at: datetime | None, now: datetime
) -> bool | None:
    """签到/签退 of today (local): True signed in, False signed out, None no record today."""
    today = now.astimezone(CHINA_TZ).date()
    last_in = signed_in_at if signed_in_at and signed_in_at.astimezone(CHINA_TZ).date() == today else None
    last_out = signed_out_at if signed_out_at and signed_out_at.astimezone(CHINA_TZ).date() == today else None
    if last_in and (last_out is None or last_out < last_in):
        return True
    if last_out:
        return False
    return None


# ---- availability events -----------------------------------------------------------


async def availability_event(session: AsyncSession, *, staff: Staff, now: datetime) -> None:
    point = await get_present(session, ServicePoint, staff.service_point_id)
    slots = (await session.scalars(select(DutySlot).where(DutySlot.staff_id == staff.id))).all()
    today = now.astimezone(CHINA_TZ).date()
    until = await session.scalar(
        select(func.max(Leave.end_date)).where(
            Leave.staff_id == staff.id,
            Leave.cancelled.is_(False),
            Leave.start_date <= today,
            Leave.end_date >= today,
        )
    )
    payload = _availability(
        staff, point, slots, until, signed_in_state(staff.signed_in_at, staff.signed_out_at, now) is True, now
    )
    await PUBLISHER.publish(session, payload, subject=str(staff.id), key=_key(staff, point))


async def staff_changed_event(session: AsyncSession, *, staff: Staff, now: datetime) -> None:
    point = await get_present(session, ServicePoint, staff.service_point_id)
    await PUBLISHER.publish(
        session, _staff_changed(staff, point, now), subject=str(staff.id), key=_key(staff, point)
    )


def _staff_changed(staff: Staff, point: ServicePoint, now: datetime) -> ev.StaffChangedV1:
    return ev.StaffChangedV1(
        staff_id=str(staff.id),
        code=staff.code,
        name=staff.name,
        role=staff.role,
        service_point_id=str(point.id),
        service_point_name=point.name,
        tier=point.tier,
        county_code=staff.county_code,
        region_code=point.region_code,
        active=staff.active,
        changed_at=now,
    )


async def announce_staff(session: AsyncSession, *, region: str, now: datetime) -> int:
    """dispatch.staff_changed once more for every staff record in `region` (prefix; "" = all):
    logins for people added before identity followed dispatch, or after identity lost its
    database. Harmless to repeat: identity applies what it already has as no change.
    One multi-row outbox insert, one NOTIFY (1,086 people in the demo)."""
    rows = (
        await session.execute(
            select(Staff, ServicePoint)
            .join(ServicePoint, Staff.service_point_id == ServicePoint.id)
            .where(ServicePoint.region_code.startswith(region, autoescape=True))
            .order_by(Staff.code)
        )
    ).all()
    if not rows:
        return 0
    await session.execute(
        outbox.insert(),
        [
            dict(event_id=e.id, topic=t, key=k, event=e.to_json())
            for st, p in rows
            for t, k, e in (prepare(_staff_changed(st, p, now), subject=str(st.id), key=_key(st, p)),)
        ],
    )
    await session.execute(text(f"NOTIFY {notify_channel(SERVICE)}"))
    # One entry for the lot (the rows went in without one each, as the demo seed's do).
    await audit.record(
        session, service=SERVICE, action="staff.announced", subject=region or "*", detail={"count": len(rows)}
    )
    return len(rows)


def _key(staff: Staff, point: ServicePoint) -> str:
    return staff.county_code or point.region_code[:6]


def _availability(staff, point, slots, until, signed_in, now) -> ev.StaffAvailabilityV1:  # type: ignore[no-untyped-def]
    return ev.StaffAvailabilityV1(
        staff_id=str(staff.id),
        name=staff.name,
        role=staff.role,
        skills=list(staff.skills),
        service_point_id=str(point.id),
        county_code=staff.county_code,
        region_code=point.region_code,
        active=staff.active,
        signed_in=signed_in,
        on_leave_until=until,
        slots=[ev.DutySlotV1(weekday=s.weekday, start=s.start, end=s.end) for s in slots],
        at=now,
    )


async def calendar_event(session: AsyncSession, *, row: CalendarYear) -> None:
    payload = ev.CalendarYearUpdatedV1(
        year=row.year, holidays=sorted(row.holidays), workdays=sorted(row.workdays), updated_at=row.updated_at
    )
    await PUBLISHER.publish(session, payload, subject=str(row.year), key=CALENDAR_KEY)


# The services that keep a copy of the holiday years (libs.common.calendar_store). A copy that is
# new (intake's, #18) starts empty, and dispatch.calendar_year_updated is sent only when an admin
# saves a year: when this list changes, dispatch announces every entered year once more.
CALENDAR_COPIES = "aid,mediation,intake"


async def announce_calendar_once(session: AsyncSession) -> int:
    """Announce every entered year, once per CALENDAR_COPIES (claim_state: of several replicas
    starting together exactly one does). The copies take each year as a redelivery: same
    updated_at, so it is stored, and an older copy never overwrites a newer one. The count sent."""
    if not await claim_state(session, "calendar.copies", CALENDAR_COPIES):
        return 0
    rows = (await session.scalars(select(CalendarYear).order_by(CalendarYear.year))).all()
    for row in rows:
        await calendar_event(session, row=row)
    return len(rows)


# ---- demo seed ---------------------------------------------------------------------


# Long on purpose: a seed — points, staff, duty slots, then one availability event each, in order.
async def seed_demo_network(session: AsyncSession, *, now: datetime | None = None) -> bool:
    """Load the 长治 demo network once, and announce every person's availability once.
    No staff_changed here: identity seeds the same people's logins from the same generator
    (services/identity/seed.py), and a fresh stack need not push 1,086 records through it."""
    if await session.scalar(select(func.count()).select_from(ServicePoint)):
        return False
    now = now or datetime.now(CHINA_TZ)
    points, people = demo.build()
    await session.execute(
        insert(ServicePoint),
        [
            dict(
                id=p.id,
                code=p.code,
                name=p.name,
                tier=p.tier,
                region_code=p.region_code,
                county_code=p.county_code,
                parent_id=p.parent_id,
                windows=p.windows,
                opening_hours=_hours(p.tier),
                demo=True,
            )
            for p in points
        ],
    )
    staff_rows = [
        dict(
            id=s.id,
            code=s.code,
            name=s.name,
            role=s.role,
            skills=s.skills,
            service_point_id=s.point.id,
            county_code=s.point.county_code,
            capacity=s.capacity,
            active_load=0,
            active=True,
            demo=True,
            levels=demo.skill_levels(s),
            languages=s.languages,
        )
        for s in people
    ]
    await session.execute(insert(Staff), staff_rows)
    await session.execute(
        insert(DutySlot),
        [dict(staff_id=s.id, weekday=d, start=a, end=b, kind="weekly") for s in people for d, a, b in s.slots]
        + [
            dict(staff_id=s.id, weekday=d, start=a, end=b, kind="on_call")
            for s in people
            for d, a, b in s.on_call
        ],
    )
    # One availability event per person, in one multi-row insert (1,086 rows) and one NOTIFY.
    rows = []
    by_id = {r["id"]: r for r in staff_rows}
    for s in people:
        slots = [domain.Slot(d, a, b) for d, a, b in s.slots] + [
            domain.Slot(d, a, b, "on_call") for d, a, b in s.on_call
        ]
        staff = Staff(**by_id[s.id])
        payload = _availability(staff, s.point, slots, None, False, now)
        event = make_event(ev.STAFF_AVAILABILITY, source=ev.SOURCE, payload=payload, subject=str(s.id))
        key = s.point.county_code or s.point.region_code[:6]
        rows.append(dict(event_id=event.id, topic=topic(DISPATCH), key=key, event=event.to_json()))
    await session.execute(outbox.insert(), rows)
    await session.execute(text(f"NOTIFY {notify_channel(SERVICE)}"))
    return True


def _hours(tier: str) -> list[dict]:
    if tier == "city":
        return [dict(weekday=d, start="00:00", end="23:59") for d in range(7)]  # 12348: 7×24
    if tier == "county":
        return [dict(weekday=d, start="08:30", end="17:30") for d in range(5)]
    if tier == "township":
        return [dict(weekday=d, start="09:00", end="17:00") for d in range(5)]
    return [dict(weekday=d, start="14:00", end="17:00") for d in range(5)]
