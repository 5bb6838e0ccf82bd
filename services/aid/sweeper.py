"""Statutory clocks that ran out: an incomplete file past its supplement deadline is withdrawn
(一次性告知 → 视为撤回); any other clock raises a supervision event (督办). Idempotent: a clock
breaches once. Tests call `sweep(...)` directly with a frozen clock; the app runs it periodically."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.clock import Clock
from libs.common.orm import present
from libs.common.periodic import every
from services.aid import domain, service_decision
from services.aid.models import Case, CaseClock
from services.aid.workflow import local_day, publish_breach

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    withdrawn: list[str] = field(default_factory=list)
    breached: list[tuple[str, str]] = field(default_factory=list)  # (case id, clock)


async def sweep(session: AsyncSession, *, now: datetime, limit: int = 500) -> SweepResult:
    today = local_day(now)
    result = SweepResult()
    clocks = (
        await session.scalars(
            select(CaseClock)
            .where(
                CaseClock.met_at.is_(None),
                CaseClock.cancelled_at.is_(None),
                CaseClock.breached_at.is_(None),
                CaseClock.due < today,
            )
            .order_by(CaseClock.due, CaseClock.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # two replicas never breach the same clock twice
        )
    ).all()
    for clock in clocks:
        if not domain.breached(clock.due, today):
            continue
        locked = await session.scalar(select(Case).where(Case.id == clock.case_id).with_for_update())
        case = present(locked, Case, clock.case_id)
        clock.breached_at = now
        if clock.name == "supplement":
            if case.status == "incomplete":
                await service_decision.withdraw(
                    session,
                    case=case,
                    reason=f"逾期（{clock.due}）未补充材料，视为撤回申请",
                    who=None,
                    now=now,
                )
                result.withdrawn.append(str(case.id))
            continue
        await publish_breach(session, case, clock=clock.name, article=clock.article, due=clock.due, now=now)
        result.breached.append((str(case.id), clock.name))
    return result


async def run_forever(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, every_seconds: float
) -> None:
    async def sweep_clocks() -> None:
        async with sessionmaker() as session, session.begin():
            r = await sweep(session, now=clock.now())
        if r.withdrawn or r.breached:
            log.info("aid clocks swept", extra={"withdrawn": len(r.withdrawn), "breached": len(r.breached)})

    await every(every_seconds, sweep_clocks, name="aid clock sweep")
