"""Network admin use cases: service points, staff, rosters, sign-in/out, leave, holidays.
Keyword-only; never commits. Jurisdiction: an object outside the caller's region is 404."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import chinese_calendar
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import regions
from libs.common.auth import Principal, ensure_visible
from libs.common.problems import FieldProblem, Problem
from services.dispatch import lifecycle
from services.dispatch import schemas as s
from services.dispatch.models import CalendarYear, DutySlot, Leave, RosterException, ServicePoint, Staff
from services.dispatch.network import (
    CALENDAR,
    availability_event,
    calendar_event,
    load_calendar,
    staff_changed_event,
)
from services.dispatch.policy import default_policy
from services.dispatch.recompute import recompute_open_orders

# The staff record as identity sees it: a change to any of these re-announces the person.
IDENTITY_FIELDS = ("code", "name", "role", "service_point_id", "active")


async def get_point(
    session: AsyncSession, point_id: uuid.UUID, who: Principal, field: str | None = None
) -> ServicePoint:
    p = await session.get(ServicePoint, point_id)
    if p is None or (who.region and not who.covers(p.region_code)):
        if field:
            raise FieldProblem(field, "未找到该服务点", "service point not found")
        raise Problem(404, "未找到该服务点", "service point not found")
    return p


async def get_staff(
    session: AsyncSession, staff_id: uuid.UUID, who: Principal, *, lock: bool = False
) -> Staff:
    st = await session.get(Staff, staff_id, with_for_update=lock)
    if st is None:
        raise Problem(404, "未找到该人员", "staff member not found")
    p = await session.get(ServicePoint, st.service_point_id)
    ensure_visible(who, p.region_code if p else None)
    return st


async def create_point(session: AsyncSession, *, body: s.ServicePointIn, who: Principal) -> ServicePoint:
    ensure_visible(who, body.region_code)
    if regions.lookup(body.region_code) is None:
        raise FieldProblem("region_code", "未知的行政区划代码", "unknown region code")
    if await session.scalar(select(ServicePoint.id).where(ServicePoint.code == body.code)):
        raise FieldProblem("code", "该服务点编码已存在", "code already used", status=409)
    if body.parent_id:
        await get_point(session, body.parent_id, who, "parent_id")
    county = None if body.tier == "city" else body.region_code[:6]
    point = ServicePoint(
        id=uuid.uuid4(),
        code=body.code,
        name=body.name,
        tier=body.tier,
        region_code=body.region_code,
        county_code=county,
        parent_id=body.parent_id,
        windows=body.windows,
        opening_hours=[h.model_dump(mode="json") for h in body.opening_hours],
    )
    session.add(point)
    await session.flush()
    return point


async def patch_point(
    session: AsyncSession, *, point_id: uuid.UUID, body: s.ServicePointPatch, who: Principal
) -> ServicePoint:
    point = await get_point(session, point_id, who)
    data = body.model_dump(exclude_unset=True, mode="json")
    if data.get("parent_id"):
        if uuid.UUID(data["parent_id"]) == point.id:
            raise FieldProblem("parent_id", "上级不能是自己", "a point cannot be its own parent")
        await get_point(session, uuid.UUID(data["parent_id"]), who, "parent_id")
        data["parent_id"] = uuid.UUID(data["parent_id"])
    for k, v in data.items():
        setattr(point, k, v)
    return point


async def create_staff(session: AsyncSession, *, body: s.StaffIn, who: Principal, now: datetime) -> Staff:
    point = await get_point(session, body.service_point_id, who, "service_point_id")
    if await session.scalar(select(Staff.id).where(Staff.code == body.code)):
        raise FieldProblem("code", "该人员编号已存在", "code already used", status=409)
    st = Staff(
        id=uuid.uuid4(),
        code=body.code,
        name=body.name,
        role=body.role,
        skills=body.skills,
        levels=body.levels,
        languages=body.languages,
        service_point_id=point.id,
        county_code=point.county_code,
        capacity=body.capacity,
        active_load=0,
        active=True,
    )
    session.add(st)
    await session.flush()
    await availability_event(session, staff=st, now=now)
    await staff_changed_event(session, staff=st, now=now)
    return st


async def patch_staff(
    session: AsyncSession, *, staff_id: uuid.UUID, body: s.StaffPatch, who: Principal, now: datetime
) -> Staff:
    st = await get_staff(session, staff_id, who, lock=True)
    data = body.model_dump(exclude_unset=True)
    before = {f: getattr(st, f) for f in IDENTITY_FIELDS}
    if "service_point_id" in data:
        point = await get_point(session, data["service_point_id"], who, "service_point_id")
        st.county_code = point.county_code
    for k, v in data.items():
        setattr(st, k, v)
    await session.flush()
    if (before["active"] and not st.active) or st.role != before["role"]:
        # What they hold goes back to routing if they can no longer act on it (lifecycle).
        released = await lifecycle.release_holdings(
            session, staff_id=st.id, active=st.active, role=st.role, now=now
        )
        if released:
            await session.refresh(st)  # their load was given back by statement: the row moved on
    await availability_event(session, staff=st, now=now)
    if any(getattr(st, f) != v for f, v in before.items()):
        await staff_changed_event(session, staff=st, now=now)
    return st


async def set_roster(
    session: AsyncSession, *, staff_id: uuid.UUID, body: s.RosterIn, who: Principal, now: datetime
) -> Staff:
    st = await get_staff(session, staff_id, who, lock=True)
    await session.execute(delete(DutySlot).where(DutySlot.staff_id == st.id))
    session.add_all(
        DutySlot(staff_id=st.id, weekday=h.weekday, start=h.start, end=h.end, kind=h.kind) for h in body.slots
    )
    await session.flush()
    await availability_event(session, staff=st, now=now)
    return st


async def add_exception(
    session: AsyncSession, *, staff_id: uuid.UUID, body: s.RosterExceptionIn, who: Principal, now: datetime
) -> RosterException:
    st = await get_staff(session, staff_id, who, lock=True)
    row = RosterException(
        staff_id=st.id, day=body.day, kind=body.kind, start=body.start, end=body.end, note=body.note
    )
    session.add(row)
    await session.flush()
    await availability_event(session, staff=st, now=now)
    return row


async def sign(
    session: AsyncSession, *, staff_id: uuid.UUID, who: Principal, now: datetime, signing_in: bool
) -> Staff:
    """签到/签退: by the person themselves (or a supervisor correcting the record)."""
    if str(staff_id) != who.staff_id and not who.has_role("supervisor", "admin"):
        raise Problem(403, "只能为本人签到签退", "you can only sign yourself in or out")
    st = await get_staff(session, staff_id, who, lock=True)
    if signing_in:
        st.signed_in_at = now
    else:
        st.signed_out_at = now
    await session.flush()
    await availability_event(session, staff=st, now=now)
    return st


async def add_leave(
    session: AsyncSession, *, staff_id: uuid.UUID, body: s.LeaveIn, who: Principal, now: datetime
) -> Leave:
    st = await get_staff(session, staff_id, who, lock=True)
    row = Leave(staff_id=st.id, start_date=body.start_date, end_date=body.end_date, reason=body.reason)
    session.add(row)
    await session.flush()
    await availability_event(session, staff=st, now=now)
    return row


async def cancel_leave(
    session: AsyncSession, *, staff_id: uuid.UUID, leave_id: int, who: Principal, now: datetime
) -> Leave:
    st = await get_staff(session, staff_id, who, lock=True)
    row = await session.get(Leave, leave_id)
    if row is None or row.staff_id != st.id:
        raise Problem(404, "未找到该请假记录", "leave not found")
    row.cancelled = True
    await session.flush()
    await availability_event(session, staff=st, now=now)
    return row


async def put_calendar_year(
    session: AsyncSession, *, year: int, body: s.CalendarYearIn, who: Principal, now: datetime
) -> CalendarYear:
    for field, days in (("holidays", body.holidays), ("workdays", body.workdays)):
        wrong = [d for d in days if d.year != year]
        if wrong:
            raise FieldProblem(field, f"日期 {wrong[0]} 不属于 {year} 年", f"{wrong[0]} is not in {year}")
    if set(body.holidays) & set(body.workdays):
        raise FieldProblem(
            "workdays", "同一天不能既是假日又是调休工作日", "a day cannot be both holiday and workday"
        )
    row = await session.get(CalendarYear, year, with_for_update=True)
    if row is None:
        row = CalendarYear(year=year)
        session.add(row)
    row.holidays, row.workdays = sorted(set(body.holidays)), sorted(set(body.workdays))
    row.updated_at, row.updated_by = now, who.name or who.sub
    await session.flush()
    CALENDAR.written(session)  # this transaction reads its own year; the cache checks after commit
    await calendar_event(session, row=row)
    # Dispatch's own open clocks follow at once; aid and mediation recompute theirs from the event.
    await recompute_open_orders(
        session, year=year, now=now, policy=default_policy(), calendar=await load_calendar(session)
    )
    return row


async def calendar_year(session: AsyncSession, *, year: int) -> s.CalendarYearOut:
    row = await session.get(CalendarYear, year)
    if row is not None:
        return s.CalendarYearOut(
            year=year, source="table", holidays=row.holidays, workdays=row.workdays, warnings=[]
        )
    cal = await load_calendar(session)
    try:
        start, end = date(year, 1, 1), date(year, 12, 31)
        holidays = [
            d
            for d in chinese_calendar.get_dates(start, end)
            if chinese_calendar.is_holiday(d) and d.weekday() < 5
        ]
        workdays = [
            d
            for d in chinese_calendar.get_dates(start, end)
            if d.weekday() >= 5 and chinese_calendar.is_workday(d)
        ]
        return s.CalendarYearOut(
            year=year, source="library", holidays=holidays, workdays=workdays, warnings=[]
        )
    except NotImplementedError:
        return s.CalendarYearOut(
            year=year,
            source="fallback",
            holidays=[],
            workdays=[],
            warnings=cal.warnings_for(date(year, 1, 1), date(year, 1, 1)),
        )
