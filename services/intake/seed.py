"""Intake's demo rows for `make run` (libs.common.seed): the knowledge base's seed articles."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.knowledge import seed as knowledge_seed


async def seed(session: AsyncSession) -> None:
    await knowledge_seed.seed(session)
