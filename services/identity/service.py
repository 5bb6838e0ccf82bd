"""Identity use cases. Keyword-only; never commits — the caller owns the transaction."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import apikeys, audit
from libs.common.auth import Principal, get_auth_settings, issue_access_token
from libs.common.events import identity as ev
from libs.common.events.payload import EventPayload
from libs.common.problems import Problem
from libs.common.publisher import Publisher
from services.identity import domain
from services.identity.models import Account, ApiKey, RefreshToken, RevokedToken, StaffMember, outbox

SERVICE = "identity"
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Unknown usernames still cost one argon2 verification: timing does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class IdentitySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LAWLINE_IDENTITY_", extra="ignore")

    refresh_ttl_seconds: int = 12 * 3600  # one working day; the access token lives 15 min
    # A temporary password (admin reset, new account) that is not used by then stops working.
    temporary_password_hours: int = 72


@lru_cache
def get_identity_settings() -> IdentitySettings:
    return IdentitySettings()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@lru_cache
def demo_password_hash() -> str:
    # Demo accounts share one password, so one hash (salted once) serves them all: seeding
    # 1,161 accounts stays fast (one argon2 hash, not 1,161 of ~50 ms each). Real accounts
    # each get their own hash via hash_password.
    return hash_password(domain.DEMO_PASSWORD)


def _invalid_login() -> Problem:
    return Problem(401, "用户名或密码错误", "wrong username or password", code="invalid_credentials")


# What login answers when the password was right but no session can start (login_verdict).
REFUSALS = {
    "disabled": (403, "账号已停用，请联系管理员", "this account is disabled: ask an administrator"),
    "expired": (
        401,
        "临时密码已过期，请联系管理员重新重置",
        "the temporary password has expired: ask an administrator to reset it again",
    ),
    "change_required": (
        403,
        "首次登录或密码已重置：请先设置新密码",
        "first login or password reset: set a new password first (POST /v1/auth/password)",
    ),
}


def refusal(verdict: str) -> Problem:
    status, zh, en = REFUSALS[verdict]
    code = {"disabled": "account_disabled", "expired": "temporary_password_expired"}.get(
        verdict, "password_change_required"
    )
    return Problem(status, zh, en, code=code)


async def authenticate(
    session: AsyncSession, *, username: str, password: str, now: datetime
) -> tuple[Account | None, str]:
    """(account, verdict): see domain.login_verdict. The account only with a right password."""
    account = (
        await session.execute(select(Account).where(Account.username == username).with_for_update())
    ).scalar_one_or_none()
    try:
        _hasher.verify(account.password_hash if account else _DUMMY_HASH, password)
        ok = account is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or account is None:
        return None, "invalid"
    verdict = domain.login_verdict(
        password_ok=True,
        active=account.active,
        must_change=account.must_change_password,
        expires_at=account.password_expires_at,
        now=now,
    )
    if verdict == "ok":
        if _hasher.check_needs_rehash(account.password_hash):
            account.password_hash = hash_password(password)
        account.last_login_at = now
    return account, verdict


async def start_session(session: AsyncSession, *, account: Account, now: datetime) -> dict:
    """Access token + a new refresh-token family; announces the session (audit + event)."""
    out = await _issue(session, account=account, family_id=uuid.uuid4(), now=now)
    payload = ev.SessionStartedV1(
        account_id=str(account.id),
        username=account.username,
        roles=list(account.roles),
        region=account.region,
        at=now,
    )
    await _publish(session, payload, key=str(account.id))
    return out


async def _issue(session: AsyncSession, *, account: Account, family_id: uuid.UUID, now: datetime) -> dict:
    settings = get_auth_settings()
    refresh = secrets.token_urlsafe(32)
    access = issue_access_token(
        sub=account.username,
        roles=list(account.roles),
        region=account.region,
        name=account.name,
        staff_id=account.staff_id,
    )
    claims = jwt.decode(access, options={"verify_signature": False})  # our own, just made
    member = await session.get(StaffMember, account.staff_id) if account.staff_id else None
    session.add(
        RefreshToken(
            token_hash=domain.token_hash(refresh),
            account_id=account.id,
            family_id=family_id,
            expires_at=now + timedelta(seconds=get_identity_settings().refresh_ttl_seconds),
            access_jti=claims["jti"],
            access_expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    )
    return {
        "access_token": access,
        "expires_in": settings.access_ttl_seconds,
        "refresh_token": refresh,
        "user": {
            "username": account.username,
            "name": account.name,
            "roles": list(account.roles),
            "region": account.region,
            "staff_id": account.staff_id,
            "staff_code": account.staff_code,
            "service_point_id": member.service_point_id if member else None,
            "service_point_name": member.service_point_name if member else None,
        },
    }


async def refresh(session: AsyncSession, *, token: str, now: datetime) -> tuple[dict | None, str]:
    """Rotate a refresh token. Returns (tokens, verdict); on `reuse` the family is revoked."""
    row = (
        await session.execute(
            select(RefreshToken).where(RefreshToken.token_hash == domain.token_hash(token)).with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        return None, "unknown"
    verdict = domain.refresh_verdict(
        used_at=row.used_at, revoked_at=row.revoked_at, expires_at=row.expires_at, now=now
    )
    if verdict == "reuse":
        await revoke_family(session, family_id=row.family_id, now=now)
        await audit.record(
            session,
            service=SERVICE,
            action="refresh_token.reuse_detected",
            subject=str(row.account_id),
            detail={"family_id": str(row.family_id)},
        )
        return None, verdict
    account = await session.get(Account, row.account_id)
    if verdict != "ok" or account is None or not account.active:
        return None, verdict if verdict != "ok" else "inactive"
    row.used_at = now
    out = await _issue(session, account=account, family_id=row.family_id, now=now)
    await audit.record(session, service=SERVICE, action="refresh_token.rotated", subject=account.username)
    return out, verdict


async def end_sessions(session: AsyncSession, *, account: Account, now: datetime) -> int:
    """Every session of the account ends now, in every service: its refresh tokens are revoked
    and each access token issued with one and not yet expired is revoked like a logout's
    (announced on the identity topic). Returns how many access tokens that was."""
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.account_id == account.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    live = (
        await session.execute(
            select(RefreshToken.access_jti, RefreshToken.access_expires_at).where(
                RefreshToken.account_id == account.id,
                RefreshToken.access_jti.is_not(None),
                RefreshToken.access_expires_at > now,
            )
        )
    ).all()
    for jti, expires in live:
        if jti is None or expires is None:  # not selected (WHERE above); narrows the nullable columns
            continue
        await revoke_access_token(
            session, jti=jti, username=account.username, account_id=account.id, expires=expires, now=now
        )
    return len(live)


async def revoke_access_token(
    session: AsyncSession,
    *,
    jti: str,
    username: str,
    account_id: uuid.UUID | None,
    expires: datetime,
    now: datetime,
) -> None:
    # Kept until it expires: announced again if the broker forgets the event (announce_credentials).
    await session.execute(
        insert(RevokedToken)
        .values(jti=jti, account=username[:64], expires_at=expires, revoked_at=now)
        .on_conflict_do_nothing(index_elements=["jti"])
    )
    await _publish(
        session,
        ev.TokenRevokedV2(
            jti=jti,
            account_id=str(account_id) if account_id else None,
            username=username,
            expires_at=expires,
        ),
        key=jti,
    )


async def revoke_family(session: AsyncSession, *, family_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def logout(session: AsyncSession, *, who: Principal, refresh_token: str | None, now: datetime) -> None:
    """Revoke the refresh family (if given) and the presented access token, everywhere."""
    if refresh_token:
        row = (
            await session.execute(
                select(RefreshToken).where(RefreshToken.token_hash == domain.token_hash(refresh_token))
            )
        ).scalar_one_or_none()
        account = await session.get(Account, row.account_id) if row else None
        if row is not None and account is not None and account.username == who.sub:
            await revoke_family(session, family_id=row.family_id, now=now)
    if who.jti:
        expires = now + timedelta(seconds=get_auth_settings().access_ttl_seconds)
        account_id = await session.scalar(select(Account.id).where(Account.username == who.sub))
        await revoke_access_token(
            session, jti=who.jti, username=who.sub, account_id=account_id, expires=expires, now=now
        )


async def create_api_key(session: AsyncSession, *, data, who: Principal, now: datetime) -> tuple[ApiKey, str]:  # type: ignore[no-untyped-def]
    if who.region and not data.region.startswith(who.region):
        raise Problem(
            403, "只能在本人管辖范围内创建密钥", "key region outside your jurisdiction", code="region"
        )
    plaintext, key_id, key_hash = apikeys.generate_key()
    key = ApiKey(
        id=key_id,
        key_hash=key_hash,
        name=data.name,
        scopes=data.scopes,
        region=data.region,
        rate_limit=data.rate_limit,
        created_by=who.sub,
        created_at=now,
    )
    session.add(key)
    payload = ev.ApiKeyCreatedV1(
        key_id=key_id,
        key_hash=key_hash,
        name=data.name,
        scopes=data.scopes,
        region=data.region,
        rate_limit=data.rate_limit,
        created_by=who.sub,
        created_at=now,
    )
    await _publish(session, payload, key=key_id)
    return key, plaintext


async def revoke_api_key(session: AsyncSession, *, key_id: str, who: Principal, now: datetime) -> ApiKey:
    key = await session.get(ApiKey, key_id, with_for_update=True)
    if key is None or (who.region and not key.region.startswith(who.region)):
        raise Problem(404, "未找到", "not found")
    if key.revoked_at is None:
        key.revoked_at = now
        payload = ev.ApiKeyRevokedV1(key_id=key_id, revoked_by=who.sub, revoked_at=now)
        await _publish(session, payload, key=key_id)
    return key


SNAPSHOT_PAGE = 500  # items per snapshot event: a page stays far below Kafka's 1 MB record limit


async def announce_credentials(session: AsyncSession, *, now: datetime) -> int:
    """Announce identity's whole credential state again, from its own database: every live
    API key, every revoked key and every revoked access token not yet expired. Run at start-up
    and whenever the broker lost its data (main.py), so a service's credential cache never
    depends on the broker having kept each event — a key made weeks ago keeps working and a
    token revoked by logout stays revoked. Returns the number of snapshot pages."""
    await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    keys = (await session.scalars(select(ApiKey).order_by(ApiKey.created_at))).all()
    live = [
        ev.SnapshotKeyV1(
            key_id=k.id,
            key_hash=k.key_hash,
            name=k.name,
            scopes=k.scopes,
            region=k.region,
            rate_limit=k.rate_limit,
        )
        for k in keys
        if k.revoked_at is None
    ]
    revoked_keys = [k.id for k in keys if k.revoked_at is not None]
    tokens = [
        ev.SnapshotRevocationV1(jti=t.jti, expires_at=t.expires_at)
        for t in (await session.scalars(select(RevokedToken).order_by(RevokedToken.expires_at))).all()
    ]
    items: list[tuple[str, object]] = (
        [("key", k) for k in live]
        + [("revoked_key", k) for k in revoked_keys]
        + [("token", t) for t in tokens]
    )
    pages = [items[i : i + SNAPSHOT_PAGE] for i in range(0, len(items), SNAPSHOT_PAGE)] or [[]]
    snapshot_id = uuid.uuid4().hex
    for number, page in enumerate(pages, start=1):
        payload = ev.CredentialsSnapshotV1(
            snapshot_id=snapshot_id,
            page=number,
            pages=len(pages),
            taken_at=now,
            keys=[v for kind, v in page if kind == "key"],  # type: ignore[misc]
            revoked_key_ids=[v for kind, v in page if kind == "revoked_key"],  # type: ignore[misc]
            revoked_tokens=[v for kind, v in page if kind == "token"],  # type: ignore[misc]
        )
        await _publish(session, payload, key=f"snapshot:{number}")
    return len(pages)


PUBLISHER = Publisher(outbox, SERVICE)


async def _publish(session: AsyncSession, payload: EventPayload, *, key: str) -> None:
    """Identity's events: subject and record key are the key id / jti / account the event is about."""
    await PUBLISHER.publish(session, payload, subject=key, key=key)
