"""Dispatch's HTTP routes."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from libs.common.auth import Principal, principal, region_filter
from libs.common.problems import Problem
from services.dispatch import service
from services.dispatch.models import ServicePoint, Staff
from services.dispatch.schemas import AssignmentOut, CandidateOut, DecisionOut, ServicePointOut, StaffOut

router = APIRouter(prefix="/v1", tags=["dispatch"])
Who = Annotated[Principal, Depends(principal)]


def _out(a, s, p) -> AssignmentOut:  # type: ignore[no-untyped-def]
    return AssignmentOut(
        id=a.id,
        work_order_id=a.work_order_id,
        staff_id=a.staff_id,
        staff_name=s.name,
        service_point_id=p.id,
        service_point_name=p.name,
        status=a.status,
        reason=a.reason,
        offered_at=a.offered_at,
        responded_at=a.responded_at,
    )


@router.get("/assignments", response_model=list[AssignmentOut], summary="Offers and assignments of an order")
async def list_assignments(request: Request, work_order_id: uuid.UUID, who: Who) -> list[AssignmentOut]:
    async with request.app.state.rt.sessionmaker() as session:
        rows = await service.list_assignments(session, work_order_id=work_order_id, who=who)
    return [_out(*r) for r in rows]


@router.get(
    "/inbox", response_model=list[AssignmentOut], summary="A staff member's open offers and assignments"
)
async def inbox(request: Request, staff_id: uuid.UUID, who: Who) -> list[AssignmentOut]:
    if not who.has_role("supervisor", "admin") and str(staff_id) != who.staff_id:
        raise Problem(403, "只能查看本人的待办", "you can only read your own inbox")
    async with request.app.state.rt.sessionmaker() as session:
        rows = await service.list_assignments(
            session, staff_id=staff_id, statuses=("offered", "accepted"), who=who
        )
    return [_out(*r) for r in rows]


@router.post(
    "/assignments/{assignment_id}/accept", response_model=AssignmentOut, summary="Accept an offer (接单)"
)
async def accept(assignment_id: uuid.UUID, request: Request, who: Who) -> AssignmentOut:
    rt = request.app.state.rt
    async with rt.sessionmaker() as session, session.begin():
        a = await service.accept(session, assignment_id=assignment_id, now=rt.extras["clock"].now(), who=who)
        s = await session.get(Staff, a.staff_id)
        p = await session.get(ServicePoint, a.service_point_id)
    return _out(a, s, p)


@router.get(
    "/work-orders/{work_order_id}/decision",
    response_model=DecisionOut,
    summary="Why this order went where it went",
)
async def decision(work_order_id: uuid.UUID, request: Request, who: Who) -> DecisionOut:
    async with request.app.state.rt.sessionmaker() as session:
        d = await service.latest_decision(session, work_order_id=work_order_id, who=who)
    return DecisionOut(
        id=d.id,
        work_order_id=d.work_order_id,
        rule=d.rule,
        reason=d.reason,
        chosen_staff_id=d.chosen_staff_id,
        decided_at=d.decided_at,
        candidates=[CandidateOut(**{k: c.get(k) for k in CandidateOut.model_fields}) for c in d.candidates],
    )


@router.get("/service-points", response_model=list[ServicePointOut], summary="Service points of the network")
async def service_points(
    request: Request,
    who: Who,
    county_code: str | None = None,
    tier: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ServicePointOut]:
    q = select(ServicePoint).where(region_filter(ServicePoint.region_code, who)).order_by(ServicePoint.code)
    if county_code:
        q = q.where(ServicePoint.county_code == county_code)
    if tier:
        q = q.where(ServicePoint.tier == tier)
    async with request.app.state.rt.sessionmaker() as session:
        rows = (await session.scalars(q.limit(limit))).all()
    return [ServicePointOut.model_validate(p, from_attributes=True) for p in rows]


@router.get("/staff", response_model=list[StaffOut], summary="Staff of the network")
async def staff(
    request: Request,
    who: Who,
    county_code: str | None = None,
    role: str | None = None,
    service_point_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[StaffOut]:
    q = (
        select(Staff)
        .join(ServicePoint, Staff.service_point_id == ServicePoint.id)
        .where(region_filter(ServicePoint.region_code, who))
        .order_by(Staff.code)
    )
    if county_code:
        q = q.where(Staff.county_code == county_code)
    if role:
        q = q.where(Staff.role == role)
    if service_point_id:
        q = q.where(Staff.service_point_id == service_point_id)
    async with request.app.state.rt.sessionmaker() as session:
        rows = (await session.scalars(q.limit(limit))).all()
    return [StaffOut.model_validate(s, from_attributes=True) for s in rows]
