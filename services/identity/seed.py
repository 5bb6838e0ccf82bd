"""Demo accounts (make run, tests): every staff member of the demo network logs in as their
staff code (S00913), linked to their staff id, with the roles their dispatch role grants; plus
every role in each of 长治's 12 counties, city-level operator, supervisor and admin. All with
the documented demo password (domain.DEMO_PASSWORD). Also identity's copy of the staff
records (what an admin links an account to): the same generator dispatch seeds from."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import demo_network
from libs.common.orm import table_of
from services.identity import domain, service
from services.identity.models import Account, StaffMember


async def seed(session: AsyncSession) -> None:
    _, staff = demo_network.build()
    # executemany (insertmanyvalues), not one VALUES list: compiling 1,161 rows × 12 columns
    # into one statement took SQLAlchemy 1.6 s.
    await session.execute(
        insert(table_of(StaffMember)).on_conflict_do_nothing(index_elements=["staff_id"]),
        [
            dict(
                staff_id=str(s.id),
                code=s.code,
                name=s.name,
                role=s.role,
                service_point_id=str(s.point.id),
                service_point_name=s.point.name,
                tier=s.point.tier,
                county_code=s.point.county_code,
                region_code=s.point.region_code,
                active=True,
                as_of=None,  # whatever dispatch announces later is newer
            )
            for s in staff
        ],
    )
    # One argon2 hash for all 1,161: they share the demo password (service.demo_password_hash).
    password_hash = service.demo_password_hash()
    rows = [
        dict(
            username=a.username,
            name=a.name,
            roles=list(a.roles),
            region=a.region,
            staff_id=a.staff_id,
            staff_code=a.staff_code,
            staff_role=a.staff_role,
            staff_region=a.region if a.staff_id else None,
            password_hash=password_hash,
            active=True,
            must_change_password=False,
        )
        for a in domain.demo_accounts()
    ]
    await session.execute(insert(table_of(Account)).on_conflict_do_nothing(index_elements=["username"]), rows)
