"""Use cases of the mediation service. Never commits — the caller owns the transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, region_filter
from libs.common.events import mediation as ev
from libs.common.events.envelope import Envelope, make_event
from libs.common.events.topics import MEDIATION, topic
from libs.common.logging import correlation_id
from libs.common.outbox import enqueue
from libs.common.problems import Problem
from services.mediation import domain
from services.mediation.models import Case, case_number_seq, outbox

SERVICE = "mediation"


async def open_case_from_assignment(session: AsyncSession, *, event: Envelope, now: datetime) -> Case | None:
    data = event.data
    if not domain.opens_case(data.get("service_type", "")):
        return None
    seq = await session.scalar(case_number_seq.next_value())
    case_id = uuid.uuid4()
    inserted = await session.execute(
        insert(Case)
        .values(
            id=case_id,
            number=domain.format_case_number(now, data["county_code"], int(seq)),
            work_order_id=uuid.UUID(data["work_order_id"]),
            county_code=data["county_code"],
            region_code=data["region_code"],
            status="opened",
            mediator_staff_id=uuid.UUID(data["staff_id"]),
            staff_name=data["staff_name"],
            applicant_name=data["requester_name"],
            summary=data["description"],
            opened_at=now,
        )
        .on_conflict_do_nothing(index_elements=["work_order_id"])
        .returning(Case.id)
    )
    if inserted.first() is None:
        return None
    case = await session.get(Case, case_id)
    assert case is not None
    event_out = make_event(
        ev.CASE_OPENED,
        source=ev.SOURCE,
        subject=str(case.id),
        correlation_id=correlation_id.get(),
        payload=ev.MediationCaseOpenedV1(
            case_id=str(case.id),
            case_number=case.number,
            work_order_id=str(case.work_order_id),
            county_code=case.county_code,
            mediator_staff_id=str(case.mediator_staff_id),
            opened_at=now,
        ),
    )
    await enqueue(session, outbox, service=SERVICE, topic=topic(MEDIATION), key=str(case.id), event=event_out)
    return case


def _visible(who: Principal):  # type: ignore[no-untyped-def]
    """Jurisdiction for everyone; a lawyer sees only the cases assigned to them."""
    cond = region_filter(Case.region_code, who)
    if who.roles <= {"lawyer"}:
        cond = cond & (Case.mediator_staff_id == (uuid.UUID(who.staff_id) if who.staff_id else None))
    return cond


async def list_cases(
    session: AsyncSession, *, work_order_id: uuid.UUID | None, who: Principal, limit: int = 100
) -> list[Case]:
    q = select(Case).where(_visible(who)).order_by(Case.opened_at.desc()).limit(limit)
    if work_order_id:
        q = q.where(Case.work_order_id == work_order_id)
    return list((await session.scalars(q)).all())


async def get_case(session: AsyncSession, *, case_id: uuid.UUID, who: Principal) -> Case:
    case = await session.scalar(select(Case).where(Case.id == case_id, _visible(who)))
    if case is None:
        raise Problem(404, "未找到该案件", "case not found")
    return case
