"""Dispatch's side of the end-to-end reconciliation (issue #14): intake re-announces an order it
has heard nothing about (`workorder.routing_requested`). One decision per order, never two live
offers: an order dispatch never got (the lost `created`) is routed as new; one it has is not
routed again — dispatch says where it stands (`dispatch.routing_confirmed`), so intake gets its
acknowledgement even when the original `offered` / `escalated` was lost on the way back."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events import dispatch as ev
from libs.common.events import intake
from libs.common.events.envelope import Envelope
from libs.common.orm import get_present
from services.dispatch import lifecycle
from services.dispatch.models import Assignment, OrderSnapshot, ServicePoint
from services.dispatch.policy import Policy, default_policy
from services.dispatch.service import insert_order, offer_next, publish

log = logging.getLogger(__name__)


async def answer_routing_request(
    session: AsyncSession,
    *,
    event: Envelope,
    data: intake.WorkOrderRoutingRequestedV1,
    now: datetime,
    policy: Policy | None = None,
) -> Assignment | None:
    policy = policy or default_policy()
    order, network = await insert_order(session, event=event, data=data, now=now, policy=policy)
    attempt = data.attempt
    if order is None:
        # Dispatch has it: follow intake's state now if it is newer (a move, new facts), then say
        # where it stands.
        await lifecycle.converge(session, event=event, data=data, now=now, policy=policy)
        await confirm_routing(session, work_order_id=uuid.UUID(data.work_order_id), now=now, attempt=attempt)
        return None
    log.warning(
        "work order %s (%s) reached dispatch only by intake's re-announcement (attempt %s): routing it now",
        order.number,
        order.work_order_id,
        attempt,
    )
    return await offer_next(session, order=order, now=now, policy=policy, network=network, tried=frozenset())


async def confirm_routing(
    session: AsyncSession, *, work_order_id: uuid.UUID, now: datetime, attempt: int | None = None
) -> None:
    # Locked: the confirmation takes the order's next dispatch revision (insert_order found it).
    order = await get_present(session, OrderSnapshot, work_order_id, with_for_update=True)
    # The open offer's service point (at most one, uq_assignments_one_open_offer), else the handler's.
    point_id = await session.scalar(
        select(Assignment.service_point_id)
        .where(Assignment.work_order_id == work_order_id, Assignment.status == "offered")
        .limit(1)
    )
    point_id = point_id or order.service_point_id
    point = await session.get(ServicePoint, point_id) if point_id else None
    await publish(
        session,
        order=order,
        payload=ev.RoutingConfirmedV1(
            work_order_id=str(work_order_id),
            county_code=order.county_code,
            status=order.status,
            service_point_name=point.name if point else None,
            offers_made=order.offers_made or 0,
            attempt=attempt,
            at=now,
        ),
    )
