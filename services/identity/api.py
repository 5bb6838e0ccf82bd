"""Identity's HTTP routes: schema in → service → schema out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select

from libs.common import audit
from libs.common.auth import Principal, jwks, principal, region_filter
from libs.common.problems import Problem
from libs.common.ratelimit import check, client_ip, get_ratelimit_settings, hit
from services.identity import accounts, service
from services.identity.models import ApiKey
from services.identity.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    LoginIn,
    LogoutIn,
    MeOut,
    RefreshIn,
    TokenOut,
)
from services.identity.schemas_accounts import PasswordChangeIn

router = APIRouter(prefix="/v1", tags=["identity"])
wellknown = APIRouter(tags=["identity"])


@wellknown.get("/.well-known/jwks.json", summary="Public keys that sign access tokens (RS256 only)")
async def jwks_document() -> dict:
    return jwks()


Who = Annotated[Principal, Depends(principal)]


def _now(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.rt.clock.now()


@router.post(
    "/auth/login",
    response_model=TokenOut,
    summary="Log in (工作人员登录)",
    responses={401: {"description": "wrong username or password"}, 429: {"description": "too many attempts"}},
)
async def login(body: LoginIn, request: Request) -> TokenOut:
    # Failed attempts per IP + username (brute force); successful logins never count.
    attempts = (get_ratelimit_settings().login_per_ip_user, "login", client_ip(request), body.username)
    await check(*attempts)
    rt = request.app.state.rt
    async with rt.sessionmaker() as session, session.begin():
        account, verdict = await service.authenticate(
            session, username=body.username, password=body.password, now=_now(request)
        )
        if account is not None:
            _audit_as(account)
        if verdict == "ok" and account is not None:
            out = await service.start_session(session, account=account, now=_now(request))
        else:
            action = "login.failed" if verdict == "invalid" else f"login.refused.{verdict}"
            await audit.record(session, service=service.SERVICE, action=action, subject=body.username[:64])
    if verdict == "invalid":
        await hit(*attempts)
        raise service._invalid_login()
    if verdict != "ok":
        raise service.refusal(verdict)  # disabled / temporary password expired / change required
    return TokenOut(**out)


def _audit_as(account) -> None:  # type: ignore[no-untyped-def]
    ctx = audit.request_context.get()
    if ctx is not None:  # the audit entry of this login names the person who logged in
        ctx.actor, ctx.actor_kind, ctx.roles, ctx.region = (
            account.username,
            "staff",
            list(account.roles),
            account.region,
        )


@router.post(
    "/auth/password",
    response_model=TokenOut,
    summary="Change my password (修改密码): with the current or temporary one; logs in",
    responses={
        401: {"description": "wrong username or password"},
        422: {"description": "the new password breaks the policy (field new_password)"},
        429: {"description": "too many attempts"},
    },
)
async def change_password(body: PasswordChangeIn, request: Request) -> TokenOut:
    """At least 10 characters of two kinds (letters, digits, symbols), not (containing) the
    username. Every other session of the account ends; the answer is a fresh session."""
    attempts = (get_ratelimit_settings().login_per_ip_user, "password", client_ip(request), body.username)
    await check(*attempts)
    rt = request.app.state.rt
    async with rt.sessionmaker() as session, session.begin():
        account, verdict = await accounts.change_password(
            session,
            username=body.username,
            current=body.current_password,
            new=body.new_password,
            now=_now(request),
        )
        if account is not None:
            _audit_as(account)
            out = await service.start_session(session, account=account, now=_now(request))
        else:
            await audit.record(
                session, service=service.SERVICE, action="password_change.failed", subject=body.username[:64]
            )
    if account is None:
        await hit(*attempts)
        raise service._invalid_login()
    return TokenOut(**out)


@router.post(
    "/auth/refresh", response_model=TokenOut, summary="New access token from a refresh token (rotates it)"
)
async def refresh(body: RefreshIn, request: Request) -> TokenOut:
    rt = request.app.state.rt
    async with rt.sessionmaker() as session, session.begin():
        out, verdict = await service.refresh(session, token=body.refresh_token, now=_now(request))
    if out is None:  # committed first: a detected reuse stays revoked
        raise Problem(401, "登录已失效，请重新登录", f"refresh token {verdict}", code=f"refresh_{verdict}")
    return TokenOut(**out)


@router.post(
    "/auth/logout", status_code=204, summary="Log out: revoke the refresh token and this access token"
)
async def logout(request: Request, who: Who, body: LogoutIn | None = None) -> Response:
    rt = request.app.state.rt
    async with rt.sessionmaker() as session, session.begin():
        await service.logout(
            session, who=who, refresh_token=body.refresh_token if body else None, now=_now(request)
        )
    return Response(status_code=204)


@router.get("/auth/me", response_model=MeOut, summary="Who am I (from the token)")
async def me(who: Who) -> MeOut:
    return MeOut(
        sub=who.sub,
        kind=who.kind,
        name=who.name,
        roles=sorted(who.roles),
        region=who.region,
        staff_id=who.staff_id,
        scopes=sorted(who.scopes),
    )


def _key_out(k: ApiKey) -> dict:
    return dict(
        key_id=k.id,
        name=k.name,
        scopes=k.scopes,
        region=k.region,
        rate_limit=k.rate_limit,
        created_by=k.created_by,
        created_at=k.created_at,
        revoked_at=k.revoked_at,
    )


@router.post(
    "/api-keys",
    status_code=201,
    response_model=ApiKeyCreated,
    summary="Create an API key for an external system (shown once)",
)
async def create_api_key(body: ApiKeyCreate, request: Request, who: Who) -> ApiKeyCreated:
    rt = request.app.state.rt
    async with rt.sessionmaker() as session, session.begin():
        key, plaintext = await service.create_api_key(session, data=body, who=who, now=_now(request))
    return ApiKeyCreated(**_key_out(key), api_key=plaintext)


@router.get(
    "/api-keys", response_model=list[ApiKeyOut], summary="API keys in my jurisdiction (never the keys)"
)
async def list_api_keys(request: Request, who: Who) -> list[ApiKeyOut]:
    async with request.app.state.rt.sessionmaker() as session:
        rows = (
            (
                await session.execute(
                    select(ApiKey).where(region_filter(ApiKey.region, who)).order_by(ApiKey.created_at.desc())
                )
            )
            .scalars()
            .all()
        )
    return [ApiKeyOut(**_key_out(k)) for k in rows]


@router.delete(
    "/api-keys/{key_id}", status_code=204, summary="Revoke an API key (takes effect in every service)"
)
async def revoke_api_key(key_id: str, request: Request, who: Who) -> Response:
    rt = request.app.state.rt
    async with rt.sessionmaker() as session, session.begin():
        await service.revoke_api_key(session, key_id=key_id[:16], who=who, now=_now(request))
    return Response(status_code=204)
