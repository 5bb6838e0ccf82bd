"""Handlers under cross-partition concurrency: intake's timeline folds events about one order
from the dispatch, aid and mediation topics, which now run side by side (partition lanes).
Every event of every order, all at once through the real inbox: no lost update, no deadlock,
the status ends at the furthest stage. Real PostgreSQL, intake's own handler."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from aiokafka import ConsumerRecord
from sqlalchemy import func, select

from libs.common.auth import Principal
from libs.common.db import make_engine, make_sessionmaker
from libs.common.events import aid, dispatch, mediation
from libs.common.events.envelope import Envelope, make_event
from libs.common.inbox import InboxConsumer
from services.intake import create
from services.intake.handlers import build_handlers
from services.intake.models import TimelineEntry, WorkOrder, inbox
from services.intake.schemas import WorkOrderCreate
from tests.integration.intake_helpers import T0, order

OPERATOR = Principal(sub="op", kind="staff", roles=frozenset({"operator"}), region="1404")


def _events(order_id: str) -> list[tuple[str, Envelope]]:
    """What the three topics carry about one order: offer, acceptance, the aid case, a mediation step."""
    at = T0 + timedelta(minutes=1)
    common = dict(work_order_id=order_id, county_code="140429", staff_id=str(uuid.uuid4()))
    return [
        (
            "dispatch",
            make_event(
                dispatch.OFFERED, source=dispatch.SOURCE, payload=dispatch.OfferedV1(
                    assignment_id=str(uuid.uuid4()), service_type="legal_aid", staff_name="李明",
                    service_point_id=str(uuid.uuid4()), service_point_name="武乡县公共法律服务中心",
                    reason="r", offered_at=at, **common,
                ),
            ),
        ),
        (
            "dispatch",
            make_event(
                dispatch.ASSIGNED, source=dispatch.SOURCE, payload=dispatch.AssignedV1(
                    assignment_id=str(uuid.uuid4()), region_code="140429003", service_type="legal_aid",
                    staff_name="李明", service_point_id=str(uuid.uuid4()), service_point_name="武乡县公共法律服务中心",
                    requester_name="王秀英", description="d", accepted_at=at, **common,
                ),
            ),
        ),
        (
            "aid",
            make_event(
                aid.CASE_OPENED, source=aid.SOURCE, payload=aid.AidCaseOpenedV1(
                    case_id=str(uuid.uuid4()), case_number="WX2026001", work_order_id=order_id,
                    county_code="140429", opened_at=at,
                ),
            ),
        ),
        (
            "mediation",
            make_event(
                mediation.CASE_OPENED, source=mediation.SOURCE, payload=mediation.MediationCaseOpenedV1(
                    case_id=str(uuid.uuid4()), case_number="WX2026M01", work_order_id=order_id,
                    county_code="140429", opened_at=at,
                ),
            ),
        ),
    ]  # fmt: skip


def _record(topic: str, offset: int, event: Envelope) -> ConsumerRecord:
    headers, value = event.to_kafka()
    return ConsumerRecord(topic, 0, offset, 0, 0, b"140429", value, None, 0, len(value), headers)


async def test_timeline_folds_from_three_topics_at_once_lose_nothing(infra):
    url = await infra.fresh_database("intake")
    engine = make_engine(url, pool_size=12)
    sessions = make_sessionmaker(engine)
    try:
        ids = []
        for n in range(6):
            body = WorkOrderCreate.model_validate(
                order(requester={"name": "王秀英", "phone": f"1383456{n:04d}"})
            )
            async with sessions() as session, session.begin():
                made = await create.create_work_order(session, data=body, now=datetime.now(UTC), who=OPERATOR)
                ids.append(str(made.order.id))
        consumer = InboxConsumer(
            consumer=None,  # type: ignore[arg-type]  # records are handed to process() as the lanes do
            sessionmaker=sessions,
            inbox=inbox,
            handlers=build_handlers(None),  # type: ignore[arg-type]  # the fold needs no runtime
            producer=None,  # type: ignore[arg-type]  # nothing is dead-lettered here
            dead_letter_topic="unused",
            service="intake",
        )
        records = [_record(t, i, e) for i, (t, e) in enumerate(e for oid in ids for e in _events(oid))]
        # Everything at once, as lanes of different partitions would; each record twice (redelivery).
        await asyncio.wait_for(asyncio.gather(*(consumer.process(r) for r in records + records)), 60)
        assert (consumer.processed, consumer.duplicates, consumer.dead_lettered) == (24, 24, 0)
        async with sessions() as session:
            per_order = dict(
                (
                    await session.execute(
                        select(TimelineEntry.work_order_id, func.count())
                        .where(TimelineEntry.source_event_id.is_not(None))
                        .group_by(TimelineEntry.work_order_id)
                    )
                ).all()
            )
            statuses = set(await session.scalars(select(WorkOrder.status).where(WorkOrder.id.in_(ids))))
        assert {str(k): v for k, v in per_order.items()} == {oid: 4 for oid in ids}
        assert statuses == {"in_progress"}  # the furthest stage wins, whatever order the folds ran in
    finally:
        await engine.dispose()
