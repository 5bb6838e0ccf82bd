"""Logins follow dispatch's staff (dispatch.staff_changed): identity keeps its copy of each
staff record, gives a new staff member an account (username = staff code), and keeps every
account linked to a person in step with them — name, the roles their dispatch role grants,
the jurisdiction of their service point; disabled with them, and their sessions ended.
Keyword-only; never commits (the inbox consumer owns the transaction)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.events.dispatch import StaffChangedV1
from services.identity import domain
from services.identity.models import Account, StaffMember
from services.identity.service import SERVICE, end_sessions

log = logging.getLogger(__name__)


async def remember_staff(session: AsyncSession, staff: StaffChangedV1) -> bool:
    """Upsert our copy; False when we already hold a later change of this person (a redelivery,
    or the two partitions of a move between counties read out of order)."""
    values = dict(
        staff_id=staff.staff_id,
        code=staff.code,
        name=staff.name,
        role=staff.role,
        service_point_id=staff.service_point_id,
        service_point_name=staff.service_point_name,
        tier=staff.tier,
        county_code=staff.county_code,
        region_code=staff.region_code,
        active=staff.active,
        as_of=staff.changed_at,
    )
    ins = insert(StaffMember).values(**values)
    stmt: Any = ins.on_conflict_do_update(
        index_elements=["staff_id"],
        set_={k: ins.excluded[k] for k in values if k != "staff_id"},
        where=StaffMember.as_of.is_(None) | (StaffMember.as_of <= ins.excluded.as_of),
    ).returning(StaffMember.staff_id)
    return (await session.execute(stmt)).first() is not None


async def apply_staff_changed(session: AsyncSession, *, staff: StaffChangedV1) -> None:
    if not await remember_staff(session, staff):
        return
    now = staff.changed_at
    facts = domain.StaffFacts(staff.name, staff.role, staff.county_code, staff.region_code, staff.active)
    linked = (
        await session.scalars(select(Account).where(Account.staff_id == staff.staff_id).with_for_update())
    ).all()
    for account in linked:
        if account.staff_as_of is not None and account.staff_as_of > now:
            continue  # linked (or followed) after this change happened
        await _follow(session, account, staff, facts)
    if not linked and staff.active:
        await _create(session, staff, facts)


async def _follow(
    session: AsyncSession, account: Account, staff: StaffChangedV1, facts: domain.StaffFacts
) -> None:
    before = domain.Linked(
        account.name,
        tuple(account.roles),
        account.region,
        account.active,
        account.disabled_reason,
        account.staff_role,
        account.staff_region,
    )
    after = domain.follow_staff(before, facts)
    account.name, account.roles, account.region = after.name, list(after.roles), after.region
    account.staff_role, account.staff_region = after.staff_role, after.staff_region
    account.staff_code, account.staff_as_of = staff.code, staff.changed_at
    if not after.changed:
        return
    account.updated_at = staff.changed_at
    if after.active != account.active:
        account.active, account.disabled_reason = after.active, after.disabled_reason
        account.disabled_at = None if after.active else staff.changed_at
    if not after.active or {"roles", "region"} & set(after.changed):
        # Disabled: nothing of it may go on. Roles or region changed: a token saying otherwise
        # must not outlive the change; the person logs in again.
        await end_sessions(session, account=account, now=staff.changed_at)
    action = (
        "account.disabled_with_staff"
        if "active" in after.changed and not after.active
        else ("account.updated_from_staff")
    )
    diff = {f: [getattr(before, f), getattr(after, f)] for f in after.changed}
    await audit.record(
        session,
        service=SERVICE,
        action=action,
        subject=account.username,
        detail={"staff_id": staff.staff_id, "staff_code": staff.code, "changes": _json(diff)},
    )


async def _create(session: AsyncSession, staff: StaffChangedV1, facts: domain.StaffFacts) -> None:
    taken = await session.scalar(select(Account.username).where(Account.username == staff.code))
    if taken is not None:
        # Someone else's login already has this name: an admin links the right account by hand.
        log.warning("staff %s: username %s is taken, no account made", staff.staff_id, staff.code)
        await audit.record(
            session,
            service=SERVICE,
            action="account.not_created_for_staff",
            subject=staff.code,
            detail={"staff_id": staff.staff_id, "reason": "username_taken"},
        )
        return
    state = domain.new_from_staff(facts)
    session.add(
        Account(
            id=uuid.uuid4(),
            username=staff.code,
            # No password until an admin resets it and hands the person a temporary one.
            password_hash=domain.NO_PASSWORD,
            name=state.name,
            roles=list(state.roles),
            region=state.region,
            active=True,
            staff_id=staff.staff_id,
            staff_code=staff.code,
            staff_role=state.staff_role,
            staff_region=state.staff_region,
            staff_as_of=staff.changed_at,
            created_at=staff.changed_at,
            updated_at=staff.changed_at,
        )
    )
    await audit.record(
        session,
        service=SERVICE,
        action="account.created_for_staff",
        subject=staff.code,
        detail={"staff_id": staff.staff_id, "roles": list(state.roles), "region": state.region},
    )


def _json(diff: dict[str, list[Any]]) -> dict[str, list[Any]]:
    return {k: [list(x) if isinstance(x, tuple) else x for x in v] for k, v in diff.items()}
