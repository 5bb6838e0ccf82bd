"""Account administration routes (admins; jurisdiction-scoped): schema in → accounts → schema out."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from libs.common.auth import Principal, principal
from services.identity import accounts, domain
from services.identity import schemas_accounts as sa
from services.identity.models import Account

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])
Who = Annotated[Principal, Depends(principal)]


def _now(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.rt.clock.now()


def account_out(a: Account) -> sa.AccountOut:
    return sa.AccountOut(
        id=a.id,
        username=a.username,
        name=a.name,
        roles=sorted(a.roles),
        region=a.region,
        region_name=domain.region_name(a.region),
        staff_id=a.staff_id,
        staff_code=a.staff_code,
        staff_role=a.staff_role,
        active=a.active,
        disabled_reason=a.disabled_reason,
        disabled_at=a.disabled_at,
        has_password=a.password_hash != domain.NO_PASSWORD,
        must_change_password=a.must_change_password,
        password_expires_at=a.password_expires_at,
        created_at=a.created_at,
        updated_at=a.updated_at,
        last_login_at=a.last_login_at,
    )


@router.get("", response_model=sa.AccountPage, summary="Accounts in my jurisdiction (账号列表，可检索)")
async def list_accounts(
    request: Request, who: Who, filters: Annotated[sa.AccountFilters, Query()]
) -> sa.AccountPage:
    async with request.app.state.rt.sessionmaker() as session:
        rows, cursor = await accounts.list_accounts(session, who=who, filters=filters)
    return sa.AccountPage(items=[account_out(a) for a in rows], next_cursor=cursor)


@router.post(
    "",
    status_code=201,
    response_model=sa.TemporaryPassword,
    summary="Create an account, optionally linked to a staff member (temporary password shown once)",
)
async def create_account(body: sa.AccountCreate, request: Request, who: Who) -> sa.TemporaryPassword:
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        account, temporary = await accounts.create_account(session, data=body, who=who, now=_now(request))
        out = account_out(account)
    return sa.TemporaryPassword(
        account=out, temporary_password=temporary.password, expires_at=temporary.expires_at
    )


@router.get("/{account_id}", response_model=sa.AccountOut, summary="One account")
async def get_account(account_id: uuid.UUID, request: Request, who: Who) -> sa.AccountOut:
    async with request.app.state.rt.sessionmaker() as session:
        return account_out(await accounts.get_account(session, account_id=account_id, who=who))


@router.patch(
    "/{account_id}",
    response_model=sa.AccountOut,
    summary="Change name, roles or jurisdiction (ends its sessions)",
)
async def update_account(
    account_id: uuid.UUID, body: sa.AccountPatch, request: Request, who: Who
) -> sa.AccountOut:
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        a = await accounts.update_account(
            session, account_id=account_id, data=body, who=who, now=_now(request)
        )
        return account_out(a)


@router.post(
    "/{account_id}/disable",
    response_model=sa.AccountOut,
    summary="Disable: no login, every refresh and access token revoked",
)
async def disable(
    account_id: uuid.UUID, request: Request, who: Who, body: sa.DisableIn | None = None
) -> sa.AccountOut:
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        a = await accounts.set_active(
            session,
            account_id=account_id,
            active=False,
            who=who,
            now=_now(request),
            note=body.note if body else "",
        )
        return account_out(a)


@router.post("/{account_id}/enable", response_model=sa.AccountOut, summary="Enable again")
async def enable(account_id: uuid.UUID, request: Request, who: Who) -> sa.AccountOut:
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        a = await accounts.set_active(
            session, account_id=account_id, active=True, who=who, now=_now(request), note=""
        )
        return account_out(a)


@router.post(
    "/{account_id}/reset-password",
    response_model=sa.TemporaryPassword,
    summary="A one-time temporary password (shown once; to be changed at the next login)",
)
async def reset_password(account_id: uuid.UUID, request: Request, who: Who) -> sa.TemporaryPassword:
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        a, temporary = await accounts.reset_password(
            session, account_id=account_id, who=who, now=_now(request)
        )
        out = account_out(a)
    return sa.TemporaryPassword(
        account=out, temporary_password=temporary.password, expires_at=temporary.expires_at
    )


@router.put("/{account_id}/staff", response_model=sa.AccountOut, summary="Link to a dispatch staff member")
async def link(account_id: uuid.UUID, body: sa.LinkIn, request: Request, who: Who) -> sa.AccountOut:
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        a = await accounts.link_staff(
            session, account_id=account_id, staff_id=body.staff_id, who=who, now=_now(request)
        )
        return account_out(a)


@router.delete("/{account_id}/staff", response_model=sa.AccountOut, summary="Unlink from its staff member")
async def unlink(account_id: uuid.UUID, request: Request, who: Who) -> sa.AccountOut:
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        a = await accounts.unlink_staff(session, account_id=account_id, who=who, now=_now(request))
        return account_out(a)
