"""Demo data of the dispatch service: the 长治 network (idempotent)."""

from sqlalchemy.ext.asyncio import AsyncSession

from services.dispatch.network import seed_demo_network


async def seed(session: AsyncSession) -> None:
    await seed_demo_network(session)
