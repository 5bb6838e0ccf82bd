"""Network admin routes: service points, staff, rosters, sign-in/out, leave, holiday calendar."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from sqlalchemy import select

from libs.common.auth import Principal, principal
from services.dispatch import admin, network
from services.dispatch import examples as ex
from services.dispatch import schemas as s
from services.dispatch.models import DutySlot, Leave, RosterException
from services.dispatch.policy import default_policy

router = APIRouter(prefix="/v1", tags=["network admin"])
Who = Annotated[Principal, Depends(principal)]
Year = Annotated[int, Path(ge=2000, le=2100)]


def _now(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.rt.clock.now()


@router.post(
    "/service-points", response_model=s.ServicePointOut, status_code=201, summary="Create a service point"
)
async def create_point(body: s.ServicePointIn, request: Request, who: Who) -> s.ServicePointOut:
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        p = await admin.create_point(session, body=body, who=who)
        return s.ServicePointOut.model_validate(p, from_attributes=True)


@router.patch(
    "/service-points/{point_id}", response_model=s.ServicePointOut, summary="Change a service point"
)
async def patch_point(
    point_id: uuid.UUID, body: s.ServicePointPatch, request: Request, who: Who
) -> s.ServicePointOut:
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        p = await admin.patch_point(session, point_id=point_id, body=body, who=who)
        return s.ServicePointOut.model_validate(p, from_attributes=True)


@router.post("/staff", response_model=s.StaffOut, status_code=201, summary="Add a staff member")
async def create_staff(body: s.StaffIn, request: Request, who: Who) -> s.StaffOut:
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        st = await admin.create_staff(session, body=body, who=who, now=_now(request))
        return s.StaffOut.model_validate(st, from_attributes=True)


@router.post(
    "/staff/announce",
    summary="Announce every staff record in my jurisdiction again (identity makes / updates their logins)",
    responses={200: {"content": {"application/json": {"example": {"announced": 36}}}}},
)
async def announce_staff(request: Request, who: Who) -> dict:
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        n = await network.announce_staff(session, region=who.region, now=_now(request))
    return {"announced": n}


@router.get(
    "/staff/{staff_id}",
    summary="A staff member with roster, exceptions and leave",
    responses={200: {"content": {"application/json": {"example": ex.STAFF_DETAIL}}}},
)
async def get_staff(staff_id: uuid.UUID, request: Request, who: Who) -> dict:
    async with request.app.state.rt.sessionmaker() as session:
        st = await admin.get_staff(session, staff_id, who)
        slots = await session.scalars(
            select(DutySlot).where(DutySlot.staff_id == st.id).order_by(DutySlot.weekday, DutySlot.start)
        )
        exc = await session.scalars(
            select(RosterException).where(RosterException.staff_id == st.id).order_by(RosterException.day)
        )
        leave = await session.scalars(select(Leave).where(Leave.staff_id == st.id).order_by(Leave.start_date))
        return {
            **s.StaffOut.model_validate(st, from_attributes=True).model_dump(mode="json"),
            "roster": [
                dict(weekday=x.weekday, start=x.start.isoformat(), end=x.end.isoformat(), kind=x.kind)
                for x in slots
            ],
            "exceptions": [
                dict(
                    day=e.day.isoformat(),
                    kind=e.kind,
                    start=e.start and e.start.isoformat(),
                    end=e.end and e.end.isoformat(),
                    note=e.note,
                )
                for e in exc
            ],
            "leave": [
                dict(
                    id=lv.id,
                    start_date=lv.start_date.isoformat(),
                    end_date=lv.end_date.isoformat(),
                    reason=lv.reason,
                    cancelled=lv.cancelled,
                )
                for lv in leave
            ],
        }


@router.patch(
    "/staff/{staff_id}", response_model=s.StaffOut, summary="Change skills, levels, capacity, home point …"
)
async def patch_staff(staff_id: uuid.UUID, body: s.StaffPatch, request: Request, who: Who) -> s.StaffOut:
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        st = await admin.patch_staff(session, staff_id=staff_id, body=body, who=who, now=_now(request))
        return s.StaffOut.model_validate(st, from_attributes=True)


@router.put("/staff/{staff_id}/roster", status_code=204, summary="Replace the weekly duty roster (值班)")
async def set_roster(staff_id: uuid.UUID, body: s.RosterIn, request: Request, who: Who) -> Response:
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        await admin.set_roster(session, staff_id=staff_id, body=body, who=who, now=_now(request))
    return Response(status_code=204)


@router.post(
    "/staff/{staff_id}/roster-exceptions",
    status_code=201,
    summary="A dated roster exception",
    responses={201: {"content": {"application/json": {"example": {"id": 7}}}}},
)
async def add_exception(staff_id: uuid.UUID, body: s.RosterExceptionIn, request: Request, who: Who) -> dict:
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        row = await admin.add_exception(session, staff_id=staff_id, body=body, who=who, now=_now(request))
        return {"id": row.id}


@router.post("/staff/{staff_id}/sign-in", response_model=s.StaffOut, summary="签到")
async def sign_in(staff_id: uuid.UUID, request: Request, who: Who) -> s.StaffOut:
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        st = await admin.sign(session, staff_id=staff_id, who=who, now=_now(request), signing_in=True)
        return s.StaffOut.model_validate(st, from_attributes=True)


@router.post("/staff/{staff_id}/sign-out", response_model=s.StaffOut, summary="签退")
async def sign_out(staff_id: uuid.UUID, request: Request, who: Who) -> s.StaffOut:
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        st = await admin.sign(session, staff_id=staff_id, who=who, now=_now(request), signing_in=False)
        return s.StaffOut.model_validate(st, from_attributes=True)


@router.post(
    "/staff/{staff_id}/leave",
    status_code=201,
    summary="Record leave (请假)",
    responses={201: {"content": {"application/json": {"example": {"id": 3}}}}},
)
async def add_leave(staff_id: uuid.UUID, body: s.LeaveIn, request: Request, who: Who) -> dict:
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        row = await admin.add_leave(session, staff_id=staff_id, body=body, who=who, now=_now(request))
        return {"id": row.id}


@router.delete("/staff/{staff_id}/leave/{leave_id}", status_code=204, summary="Cancel leave")
async def cancel_leave(
    staff_id: uuid.UUID,
    request: Request,
    who: Who,
    leave_id: int = Path(ge=1, le=2**31 - 1),  # leaves.id is an int4 serial
) -> Response:
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        await admin.cancel_leave(session, staff_id=staff_id, leave_id=leave_id, who=who, now=_now(request))
    return Response(status_code=204)


@router.put(
    "/calendar/{year}",
    response_model=s.CalendarYearOut,
    summary="Enter a year's holiday schedule (节假日及调休)",
)
async def put_calendar(year: Year, body: s.CalendarYearIn, request: Request, who: Who) -> s.CalendarYearOut:
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        row = await admin.put_calendar_year(session, year=year, body=body, who=who, now=_now(request))
        return s.CalendarYearOut(
            year=year, source="table", holidays=row.holidays, workdays=row.workdays, warnings=[]
        )


@router.get(
    "/calendar/{year}", response_model=s.CalendarYearOut, summary="A year's holidays and where they come from"
)
async def get_calendar(year: Year, request: Request, who: Who) -> s.CalendarYearOut:
    async with request.app.state.rt.sessionmaker() as session:
        return await admin.calendar_year(session, year=year)


def policy_body() -> dict:
    p = default_policy()
    return {
        "version": p.version,
        "max_offers": p.max_offers,
        "bands": p.bands,
        "relaxation": list(p.relaxation),
        "rules": [
            {
                "id": r.id,
                "match": {k: list(v) for k, v in r.match.items()},
                "targets": [t.__dict__ for t in r.targets],
            }
            for r in p.rules
        ],
    }


@router.get(
    "/policy",
    summary="The routing policy in force (rules, targets, clocks) and its version",
    # The policy file itself (routing rules are data): the example is what the route answers.
    responses={200: {"content": {"application/json": {"example": policy_body()}}}},
)
async def policy(who: Who) -> dict:
    return policy_body()
