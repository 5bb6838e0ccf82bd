"""Demo accounts (make run, tests): every role in each of 长治's 12 counties plus city-level
operator, supervisor and admin, all with the documented demo password (domain.DEMO_PASSWORD)."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity import domain, service
from services.identity.models import Account


async def seed(session: AsyncSession) -> None:
    password_hash = service.demo_password_hash()
    rows = [
        dict(
            username=a.username,
            name=a.name,
            roles=list(a.roles),
            region=a.region,
            staff_id=a.staff_id,
            password_hash=password_hash,
            active=True,
        )
        for a in domain.demo_accounts()
    ]
    await session.execute(insert(Account).values(rows).on_conflict_do_nothing(index_elements=["username"]))
