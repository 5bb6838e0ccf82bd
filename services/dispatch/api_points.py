"""A service point's queue (issue #16): who of its members is on duty now, with their load, and
every open offer and accepted matter at the point — so the window sees what is waiting, who
holds it and who could take the next one, not only each person's own inbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from libs.common.auth import Principal, principal
from libs.common.openapi_examples import examples
from libs.common.problems import Problem
from services.dispatch import domain
from services.dispatch import examples as ex
from services.dispatch.api import _out
from services.dispatch.models import Assignment, OrderSnapshot, ServicePoint, Staff
from services.dispatch.network_cache import routing_network
from services.dispatch.schemas import AssignmentOut

router = APIRouter(prefix="/v1", tags=["dispatch"])
Who = Annotated[Principal, Depends(principal)]


class MemberOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.MEMBER))

    staff_id: uuid.UUID
    code: str
    name: str
    role: str
    on_duty: bool
    next_duty_at: datetime | None  # now when on duty; None: nothing within the roster horizon
    load: int
    capacity: int


class PointQueueOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.POINT_QUEUE))

    service_point_id: uuid.UUID
    name: str
    tier: str
    members: list[MemberOut]  # on duty first, then by who is free soonest
    open: list[AssignmentOut]  # offered (oldest first), then accepted


async def _may_see(session, who: Principal, point: ServicePoint) -> bool:  # type: ignore[no-untyped-def]
    """Members see their own point; supervisors and admins the points of their jurisdiction."""
    if who.has_role("supervisor", "admin") and (not who.region or point.region_code.startswith(who.region)):
        return True
    if not who.staff_id:
        return False
    me = await session.get(Staff, uuid.UUID(who.staff_id))
    return me is not None and me.service_point_id == point.id


@router.get(
    "/service-points/{point_id}/queue",
    response_model=PointQueueOut,
    summary="A service point's members on duty and its open offers and matters (窗口队列)",
    responses={404: {"description": "no such point, or not one the caller works at or supervises"}},
)
async def point_queue(point_id: uuid.UUID, request: Request, who: Who) -> PointQueueOut:
    rt = request.app.state.rt
    now = rt.clock.now()
    async with rt.sessionmaker() as session:
        point = await session.get(ServicePoint, point_id)
        if point is None or not await _may_see(session, who, point):
            raise Problem(404, "未找到", "not found")
        net = await routing_network(session, county_code=point.county_code or "", now=now)
        views = [v for v in await net.staff(session, now=now) if v.service_point_id == str(point.id)]
        workday = net.calendar.is_workday
        codes = dict(
            (
                await session.execute(select(Staff.id, Staff.code).where(Staff.service_point_id == point.id))
            ).all()
        )
        members = []
        for v in views:
            nd = domain.next_duty(v, now, workday)
            members.append(
                MemberOut(
                    staff_id=uuid.UUID(v.id),
                    code=codes.get(uuid.UUID(v.id), ""),
                    name=v.name,
                    role=v.role,
                    on_duty=domain.on_duty(v, now, workday),
                    next_duty_at=nd,
                    load=v.load,
                    capacity=v.capacity,
                )
            )
        members.sort(
            key=lambda m: (
                not m.on_duty,
                m.next_duty_at or datetime.max.replace(tzinfo=now.tzinfo),
                m.load / max(m.capacity, 1),
                m.code,
            )
        )
        rows = (
            await session.execute(
                select(Assignment, Staff, ServicePoint, OrderSnapshot)
                .join(Staff, Assignment.staff_id == Staff.id)
                .join(ServicePoint, Assignment.service_point_id == ServicePoint.id)
                .outerjoin(OrderSnapshot, OrderSnapshot.work_order_id == Assignment.work_order_id)
                .where(
                    Assignment.service_point_id == point.id, Assignment.status.in_(("offered", "accepted"))
                )
                .order_by(Assignment.status.desc(), Assignment.offered_at)  # offered before accepted
                .limit(500)
            )
        ).all()
        return PointQueueOut(
            service_point_id=point.id,
            name=point.name,
            tier=point.tier,
            members=members,
            open=[_out(*r) for r in rows],
        )
