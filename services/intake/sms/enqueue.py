"""Writing the messages an order's events call for, in the transaction that writes the events
(intake's service.enqueue_prepared calls `on_events` with every event it enqueues): the message
exists exactly when the event does, and is made once per (order, template, event id)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.crypto import get_cipher
from libs.common.fastsql import FastStatement
from libs.common.orm import table_of
from libs.common.pii import mask_phone, phone_key
from libs.common.publisher import Prepared
from services.intake.models import WorkOrder
from services.intake.sms import policy, templates
from services.intake.sms.models import PENDING, SmsMessage
from services.intake.sms.settings import get_sms_settings

# Built once (the create path runs it for every new order: libs/common/fastsql.py says why).
_INSERT = FastStatement(
    insert(table_of(SmsMessage)).on_conflict_do_nothing(constraint="uq_sms_messages_event")
)


async def on_events(session: AsyncSession, prepared: list[Prepared]) -> None:
    s = get_sms_settings()
    if not s.enabled:
        return
    for _topic, _key, event in prepared:
        template = policy.template_for(event.type, event.data)
        if template is None or event.subject is None:
            continue
        # The order is in the session already (every use case that emits holds it): no query.
        order = await session.get(WorkOrder, uuid.UUID(event.subject))
        if order is None or not policy.wants(
            template, status=order.status, rated=order.rating_score is not None
        ):
            continue
        now = policy.event_time(event.type, event.data) or event.time
        await write(session, order=order, template=template, event_id=event.id, now=now)


async def write(
    session: AsyncSession, *, order: WorkOrder, template: str, event_id: str, now: datetime
) -> None:
    digits = phone_key(order.requester_phone)
    if digits is None or not policy.mobile(digits):
        return  # a landline or a number we cannot text: no message is meant for it
    cipher = get_cipher()
    params = templates.params_for(template, number=order.number, base_url=get_sms_settings().public_base_url)
    await _INSERT.execute(
        session,
        {
            "id": uuid.uuid4(),
            "work_order_id": order.id,
            "template": template,
            "event_id": event_id,
            "phone_enc": cipher.encrypt(digits),
            "phone_bidx": cipher.blind_index(digits),
            "phone_masked": mask_phone(digits),
            "params": params,
            "text": templates.render(template, params),
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "claimed_at": None,
            "sent_at": None,
            "provider": None,
            "provider_id": None,
            "last_error": None,
        },
    )
