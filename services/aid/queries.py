"""Read side of the aid service: lists (keyset paged), one case, its clocks and log."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.crypto import get_cipher
from libs.common.problems import Problem
from services.aid.models import Case, CaseClock, CaseLog
from services.aid.workflow import (
    visible,
)


async def list_cases(
    session: AsyncSession,
    *,
    who: Principal,
    work_order_id: uuid.UUID | None = None,
    status: str | None = None,
    before: tuple[datetime, uuid.UUID] | None = None,
    id_number: str | None = None,
    limit: int = 100,
) -> list[Case]:
    """Keyset pagination on (opened_at, id), newest first. An ID number is matched through its
    blind index only (PIPL Art 28): the plaintext never reaches the database."""
    q = select(Case).where(visible(who)).order_by(Case.opened_at.desc(), Case.id.desc()).limit(limit)
    if work_order_id:
        q = q.where(Case.work_order_id == work_order_id)
    if status:
        q = q.where(Case.status == status)
    if id_number:
        q = q.where(Case.id_number_index.in_(get_cipher().lookup_indexes(id_number)))  # AES- or SM-mode index
    if before:
        q = q.where(tuple_(Case.opened_at, Case.id) < tuple_(*before))
    return list((await session.scalars(q)).all())


async def get_case(session: AsyncSession, *, case_id: uuid.UUID, who: Principal) -> Case:
    case = await session.scalar(select(Case).where(Case.id == case_id, visible(who)))
    if case is None:
        raise Problem(404, "未找到该案件", "case not found")
    return case


async def clocks_of(session: AsyncSession, case_id: uuid.UUID) -> list[CaseClock]:
    return list(
        (
            await session.scalars(
                select(CaseClock).where(CaseClock.case_id == case_id).order_by(CaseClock.id)
            )
        ).all()
    )


async def log_of(session: AsyncSession, case_id: uuid.UUID) -> list[CaseLog]:
    return list(
        (await session.scalars(select(CaseLog).where(CaseLog.case_id == case_id).order_by(CaseLog.id))).all()
    )
