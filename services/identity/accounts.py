"""Account administration — admins, inside their own jurisdiction, as for API keys — and a
person's own password change. Keyword-only; never commits: the caller owns the transaction.
Every change is audited (libs.common.audit); no password ever reaches the audit or a log."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal
from libs.common.problems import FieldProblem, Problem
from services.identity import domain, duties
from services.identity import schemas_accounts as sa
from services.identity.models import Account, StaffMember
from services.identity.service import (
    SERVICE,
    authenticate,
    end_sessions,
    get_identity_settings,
    hash_password,
    refusal,
)


def _not_found() -> Problem:
    return Problem(404, "未找到该账号", "account not found")


def _check_region(region: str, who: Principal, field: str = "region") -> None:
    if not domain.region_known(region):
        raise FieldProblem(field, "未知的辖区代码", "unknown jurisdiction code")
    if who.region and not region.startswith(who.region):
        raise FieldProblem(
            field, "只能在本人管辖范围内设置辖区", "outside your own jurisdiction", status=403, code="region"
        )


def _check_duties(who: Principal, *, own_account: bool, before: list[str], after: list[str]) -> None:
    """三员分立 and no self-grant (services/identity/duties.py)."""
    why = duties.refusal(granter_roles=who.roles, own_account=own_account, before=before, after=after)
    if why is not None:
        raise FieldProblem(
            "roles", why.message, why.message_en, status=why.status, code="separation_of_duties"
        )


async def get_account(
    session: AsyncSession, *, account_id: uuid.UUID, who: Principal, lock: bool = False
) -> Account:
    account = await session.get(Account, account_id, with_for_update=lock)
    # Outside the admin's jurisdiction an account looks exactly like one that does not exist.
    if account is None or (who.region and not account.region.startswith(who.region)):
        raise _not_found()
    return account


async def list_accounts(
    session: AsyncSession, *, who: Principal, filters: sa.AccountFilters
) -> tuple[list[Account], str | None]:
    """Keyset pages by username (`cursor` = the last username of the page before)."""
    q = select(Account).order_by(Account.username)
    if who.region:
        q = q.where(Account.region.startswith(who.region, autoescape=True))
    if filters.region:
        q = q.where(Account.region.startswith(filters.region, autoescape=True))
    if filters.role:
        q = q.where(Account.roles.contains([filters.role]))  # jsonb @>, the GIN index
    if filters.staff_id:
        q = q.where(Account.staff_id == filters.staff_id)
    if filters.linked is not None:
        q = q.where(Account.staff_id.is_not(None) if filters.linked else Account.staff_id.is_(None))
    if filters.active is not None:
        q = q.where(Account.active.is_(filters.active))
    if filters.q and filters.q.strip():
        needle = filters.q.strip()
        q = q.where(
            Account.username.istartswith(needle, autoescape=True)
            | Account.name.contains(needle, autoescape=True)
            | Account.staff_code.istartswith(needle, autoescape=True)
        )
    if filters.cursor:
        q = q.where(Account.username > filters.cursor)
    rows = list((await session.scalars(q.limit(filters.limit + 1))).all())
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return rows, rows[-1].username if more and rows else None


async def _staff_to_link(
    session: AsyncSession, *, staff_id: str, who: Principal, account_id: uuid.UUID | None
) -> StaffMember:
    staff = await session.get(StaffMember, staff_id)
    if staff is None or (who.region and not staff.region_code.startswith(who.region)):
        raise FieldProblem(
            "staff_id",
            "未找到该工作人员（新增人员的信息同步可能需要几秒钟）",
            "no such staff member (a newly added one may take a few seconds to arrive)",
        )
    if not staff.active:
        raise FieldProblem(
            "staff_id", "该工作人员已停用，不能关联", "this staff member is inactive", status=409
        )
    linked = select(Account.username).where(Account.staff_id == staff_id)
    if account_id is not None:
        linked = linked.where(Account.id != account_id)
    other = await session.scalar(linked.limit(1))
    if other is not None:  # one person, one login
        raise FieldProblem(
            "staff_id",
            f"该工作人员已关联账号 {other}",
            f"this staff member already has the account {other}",
            status=409,
            code="already_linked",
        )
    return staff


def _facts(staff: StaffMember) -> domain.StaffFacts:
    return domain.StaffFacts(staff.name, staff.role, staff.county_code, staff.region_code, staff.active)


def _state(a: Account) -> domain.Linked:
    return domain.Linked(
        a.name, tuple(a.roles), a.region, a.active, a.disabled_reason, a.staff_role, a.staff_region
    )


def _apply(account: Account, state: domain.Linked) -> None:
    account.name, account.roles, account.region = state.name, list(state.roles), state.region
    account.staff_role, account.staff_region = state.staff_role, state.staff_region


def _link(account: Account, staff: StaffMember) -> None:
    _apply(account, domain.link_to(_state(account), _facts(staff)))
    account.staff_id, account.staff_code, account.staff_as_of = staff.staff_id, staff.code, staff.as_of


class Temporary(NamedTuple):
    """A one-time password as set on the account: shown once, stored hashed."""

    password: str
    expires_at: datetime


def _temporary(account: Account, now: datetime) -> Temporary:
    password = domain.temporary_password()
    expires_at = now + timedelta(hours=get_identity_settings().temporary_password_hours)
    account.password_hash = hash_password(password)
    account.must_change_password = True
    account.password_expires_at = expires_at
    return Temporary(password, expires_at)


async def create_account(
    session: AsyncSession, *, data: sa.AccountCreate, who: Principal, now: datetime
) -> tuple[Account, Temporary]:
    """A new account with a one-time temporary password (returned once, stored hashed)."""
    if data.region is not None:  # a linked account may leave it out: it takes the staff member's
        _check_region(data.region, who)
    if await session.scalar(select(Account.id).where(Account.username == data.username)):
        raise FieldProblem("username", "该用户名已被使用", "username already taken", status=409)
    _check_duties(who, own_account=data.username == who.sub, before=[], after=data.roles)
    account = Account(
        id=uuid.uuid4(),
        username=data.username,
        name=data.name,
        roles=list(data.roles),
        region=data.region,
        active=True,
        created_at=now,
        updated_at=now,
    )
    if data.staff_id:
        _link(account, await _staff_to_link(session, staff_id=data.staff_id, who=who, account_id=None))
        if who.region and not account.region.startswith(who.region):
            raise FieldProblem("staff_id", "该工作人员不在您的管辖范围内", "outside your jurisdiction")
    temporary = _temporary(account, now)
    session.add(account)
    await session.flush()
    await _audit(session, "account.created", account, roles=account.roles, region=account.region)
    return account, temporary


async def update_account(
    session: AsyncSession, *, account_id: uuid.UUID, data: sa.AccountPatch, who: Principal, now: datetime
) -> Account:
    account = await get_account(session, account_id=account_id, who=who, lock=True)
    changes = data.model_dump(exclude_unset=True)
    if "region" in changes:
        _check_region(changes["region"], who)
    own = account.username == who.sub
    if "roles" in changes and own and "admin" in account.roles and "admin" not in changes["roles"]:
        raise FieldProblem(
            "roles", "不能移除自己的管理员角色", "you cannot remove your own admin role", status=409
        )
    if "roles" in changes:
        _check_duties(who, own_account=own, before=account.roles, after=changes["roles"])
    before = {k: getattr(account, k) for k in changes}
    for k, v in changes.items():
        setattr(account, k, list(v) if k == "roles" else v)
    account.updated_at = now
    diff = {k: [before[k], getattr(account, k)] for k in changes if before[k] != getattr(account, k)}
    if diff:
        await _audit(session, "account.updated", account, changes=diff)
        if {"roles", "region"} & set(diff):
            # A token carries roles and region: what it says must not outlive the change.
            await end_sessions(session, account=account, now=now)
    return account


async def set_active(
    session: AsyncSession, *, account_id: uuid.UUID, active: bool, who: Principal, now: datetime, note: str
) -> Account:
    account = await get_account(session, account_id=account_id, who=who, lock=True)
    if not active and account.username == who.sub:
        raise Problem(409, "不能停用自己的账号", "you cannot disable your own account")
    if active and account.staff_id:
        staff = await session.get(StaffMember, account.staff_id)
        if staff is not None and not staff.active:
            raise Problem(
                409,
                "该账号关联的工作人员已停用：请先在人员管理中恢复其在职状态，或解除关联",
                "the linked staff member is inactive: reactivate them in dispatch or unlink first",
            )
    if account.active == active:
        return account
    account.active, account.updated_at = active, now
    account.disabled_at = None if active else now
    account.disabled_reason = None if active else "admin"
    if not active:
        await end_sessions(session, account=account, now=now)
    await _audit(session, "account.enabled" if active else "account.disabled", account, note=note)
    return account


async def reset_password(
    session: AsyncSession, *, account_id: uuid.UUID, who: Principal, now: datetime
) -> tuple[Account, Temporary]:
    """A new one-time temporary password: the old one stops working, every session ends, and
    the person must choose their own at the next login."""
    account = await get_account(session, account_id=account_id, who=who, lock=True)
    temporary = _temporary(account, now)
    account.updated_at = now
    await end_sessions(session, account=account, now=now)
    await _audit(session, "account.password_reset", account, expires_at=account.password_expires_at)
    return account, temporary


async def link_staff(
    session: AsyncSession, *, account_id: uuid.UUID, staff_id: str, who: Principal, now: datetime
) -> Account:
    account = await get_account(session, account_id=account_id, who=who, lock=True)
    if account.staff_id == staff_id:
        return account
    if account.staff_id:
        raise Problem(
            409,
            f"该账号已关联工作人员 {account.staff_code}，请先解除关联",
            f"already linked to {account.staff_code}: unlink first",
        )
    staff = await _staff_to_link(session, staff_id=staff_id, who=who, account_id=account.id)
    _link(account, staff)
    account.updated_at = now
    await end_sessions(session, account=account, now=now)  # the token's staff_id and roles change
    await _audit(session, "account.linked", account, staff_id=staff_id, staff_code=staff.code)
    return account


async def unlink_staff(
    session: AsyncSession, *, account_id: uuid.UUID, who: Principal, now: datetime
) -> Account:
    account = await get_account(session, account_id=account_id, who=who, lock=True)
    if account.staff_id is None:
        return account
    staff_id, code = account.staff_id, account.staff_code
    _apply(account, domain.unlink(_state(account)))
    account.staff_id = account.staff_code = account.staff_as_of = None
    account.updated_at = now
    await end_sessions(session, account=account, now=now)
    await _audit(session, "account.unlinked", account, staff_id=staff_id, staff_code=code)
    return account


async def _audit(session: AsyncSession, action: str, account: Account, **detail: Any) -> None:
    await audit.record(
        session,
        service=SERVICE,
        action=action,
        subject=account.username,
        detail={k: v.isoformat() if isinstance(v, datetime) else v for k, v in detail.items()},
    )


async def change_password(
    session: AsyncSession, *, username: str, current: str, new: str, now: datetime
) -> tuple[Account | None, str]:
    """The person themselves, with their current (or temporary) password: (account, verdict).
    `invalid` changes nothing (the caller counts the attempt); disabled or expired refuse;
    otherwise the new password must meet the policy, and every other session ends."""
    account, verdict = await authenticate(session, username=username, password=current, now=now)
    if account is None:
        return None, verdict
    if verdict in ("disabled", "expired"):
        raise refusal(verdict)
    problem = domain.password_problem(new, username=account.username, current=current)
    if problem is not None:
        raise FieldProblem("new_password", *problem, code="password_policy")
    account.password_hash = hash_password(new)
    account.must_change_password, account.password_expires_at = False, None
    account.password_changed_at = account.updated_at = account.last_login_at = now
    await end_sessions(session, account=account, now=now)
    await _audit(session, "account.password_changed", account)
    return account, "ok"
