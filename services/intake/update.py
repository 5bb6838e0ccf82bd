"""Staff corrections to an open order's facts, announced as workorder.updated (masked)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, ensure_visible
from libs.common.crypto import get_cipher
from libs.common.events import intake as ev
from libs.common.pii import mask_id_number, mask_phone, mask_text
from libs.common.problems import FieldProblem, Problem
from services.intake import domain, validation
from services.intake.access import ACT_ON_ORDER
from services.intake.models import WorkOrder
from services.intake.schemas import WorkOrderPatch
from services.intake.service import add_timeline, emit, load_order


async def update_order(
    session: AsyncSession, *, order_id: uuid.UUID, who: Principal, data: WorkOrderPatch, now: datetime
) -> WorkOrder:
    order = await load_order(session, order_id=order_id, who=who, lock=True, access=ACT_ON_ORDER)
    if order.status in domain.TERMINAL:
        raise Problem(409, "已办结或已并单的工单不能修改", "a closed or merged order cannot be changed")
    changed: dict[str, str | None] = {}
    if data.requester_name and data.requester_name != order.requester_name:
        order.requester_name = changed["requester_name"] = data.requester_name
    if data.requester_phone and data.requester_phone != order.requester_phone:
        order.requester_phone = data.requester_phone
        changed["requester_phone"] = mask_phone(data.requester_phone)
    if data.requester_id_number:
        cipher = get_cipher()
        order.requester_id_enc = cipher.encrypt(data.requester_id_number)
        order.requester_id_bidx = cipher.blind_index(data.requester_id_number)
        changed["requester_id_number"] = mask_id_number(data.requester_id_number)
    if data.region_code and data.region_code != order.region_code:
        region = validation.resolve_region(data.region_code)
        if region.county_code != order.county_code:
            # Another county is another dispatcher's partition: that is a transfer, not a correction.
            raise FieldProblem(
                "region_code",
                "跨县（区）变更请走跨县转办（POST /v1/work-orders/{id}/county-transfer）",
                "moving an order to another county is a transfer (POST …/county-transfer), not a correction",
            )
        ensure_visible(who, region.code)
        order.region_code = changed["region_code"] = region.code
    if data.description and data.description != order.description:
        order.description = data.description
        changed["description"] = mask_text(data.description)
    if not changed:
        return order
    order.updated_at = now
    add_timeline(
        session,
        order,
        at=now,
        kind="updated",
        text_="工作人员更正了工单信息",
        text_en="A staff member corrected the order's details",
        public=False,
        fields=sorted(changed),
        reason=data.reason,
    )
    await emit(
        session,
        order=order,
        event_type=ev.WORKORDER_UPDATED,
        payload=ev.WorkOrderUpdatedV1(
            work_order_id=str(order.id),
            county_code=order.county_code,
            changed=changed,
            by=who.sub,
            updated_at=now,
        ),
    )
    return order
