"""跨县（区）转办: staff move an open order to another county. Intake changes its region and
county and announces `workorder.transferred` (keyed by the new county, carrying the whole order);
dispatch withdraws the offer or assignment in the old county and routes it in the new one, and
the new handler sees the order, its contact details and its callback task (access follows the
work). Keyword-only; never commits — the caller owns the transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import regions
from libs.common.auth import Principal
from libs.common.events import intake as ev
from libs.common.pii import mask_text
from libs.common.problems import FieldProblem, Problem
from services.intake import domain, validation
from services.intake.access import COUNTY_TRANSFER
from services.intake.models import Task, WorkOrder
from services.intake.reconcile import announce
from services.intake.schemas import CountyTransferIn
from services.intake.service import add_timeline, created_payload, emit, load_order
from services.intake.settings import get_intake_settings


def transferred_payload(
    order: WorkOrder, *, from_region: str, from_county: str, reason: str, by: str, now: datetime
) -> ev.WorkOrderTransferredV1:
    return ev.WorkOrderTransferredV1(
        **created_payload(order).model_dump(),
        from_region_code=from_region,
        from_county_code=from_county,
        reason=mask_text(reason),
        by=by,
        transferred_at=now,
    )


async def transfer_county(
    session: AsyncSession, *, order_id: uuid.UUID, who: Principal, data: CountyTransferIn, now: datetime
) -> WorkOrder:
    order = await load_order(session, order_id=order_id, who=who, lock=True, access=COUNTY_TRANSFER)
    if order.status in domain.TERMINAL:
        raise Problem(409, "已办结或已并单的工单不能转办", "a closed or merged order cannot be transferred")
    region = validation.resolve_region(data.region_code)
    if region.county_code == order.county_code:
        raise FieldProblem(
            "region_code",
            "接收地与当前工单同属一个县（区），请直接更正工单区划",
            "that is the order's own county: correct the region instead (PATCH)",
        )
    county = region.county_code
    if county is None:  # resolve_region takes counties and below only, and every one has a county
        raise RuntimeError(f"region {region.code} ({region.level}) has no county")
    from_region, from_county = order.region_code, order.county_code
    order.region_code, order.county_code, order.updated_at = region.code, county, now
    order.channel_details = {
        **(order.channel_details or {}),
        "region_path": validation.region_path(region.code),
    }
    # The callback goes with the order (the new county's front desk sees it, and its handler).
    await session.execute(update(Task).where(Task.work_order_id == order.id).values(region_code=region.code))
    if order.dispatched:
        order.status = domain.REROUTING
        announce(order, now, get_intake_settings())  # the new county's dispatch owes its word
    county_name = regions.full_name(county)
    add_timeline(
        session,
        order,
        at=now,
        kind="county_transferred",
        text_=f"工单已转至{county_name}办理，正在重新分派",
        text_en=f"The order has been transferred to {county_name} and is being reassigned",
    )
    add_timeline(
        session,
        order,
        at=now,
        kind="county_transfer_reason",
        text_=f"跨县转办：{regions.full_name(from_county)} → {county_name}；理由：{data.reason}",
        text_en=f"County transfer: {regions.full_name(from_county)} → {county_name}; reason: {data.reason}",
        public=False,
        from_region_code=from_region,
        by=who.sub,
    )
    await emit(
        session,
        order=order,  # keyed by the new county: every later event of the order follows this one
        event_type=ev.WORKORDER_TRANSFERRED,
        payload=transferred_payload(
            order, from_region=from_region, from_county=from_county, reason=data.reason, by=who.sub, now=now
        ),
    )
    return order
