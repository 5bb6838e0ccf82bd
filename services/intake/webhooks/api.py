"""/v1/webhooks: an external system subscribes to its own orders' events, sees every delivery
and attempt, redelivers one or replays all since a time, rotates its secret. The secret is in the
answer to the subscription (and to a rotation) only; it is stored encrypted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, principal
from libs.common.crypto import get_cipher
from libs.common.problems import FieldProblem, Problem
from services.intake.webhooks import signing, targets
from services.intake.webhooks.models import Attempt, Delivery, Subscription
from services.intake.webhooks.schemas import (
    AttemptOut,
    DeliveryOut,
    ReplayIn,
    ReplayOut,
    SecretOut,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
)
from services.intake.webhooks.settings import get_webhook_settings

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
Who = Annotated[Principal, Depends(principal)]
NOT_FOUND = ("未找到该推送订阅", "webhook subscription not found")
PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"description": "not found (or not yours)"},
    422: {"description": "invalid field"},
}
MAX_PER_OWNER = 20


def _now() -> datetime:
    return datetime.now(UTC)


async def _check_target(url: str) -> None:
    try:
        await targets.check(url, private_allowed=get_webhook_settings().private_allowed)
    except targets.TargetRefused as exc:
        raise FieldProblem("url", exc.zh, exc.en) from exc


async def _own(
    session: AsyncSession, who: Principal, sub_id: uuid.UUID, *, lock: bool = False
) -> Subscription:
    q = select(Subscription).where(Subscription.id == sub_id, Subscription.owner == who.sub)
    sub = await session.scalar(q.with_for_update() if lock else q)
    if sub is None:  # another system's subscription is "not found", not "forbidden": no probing
        raise Problem(404, *NOT_FOUND)
    return sub


async def _out(session: AsyncSession, sub: Subscription) -> dict:
    counts = dict(
        (
            await session.execute(
                select(Delivery.status, func.count())
                .where(Delivery.subscription_id == sub.id)
                .group_by(Delivery.status)
            )
        ).all()
    )
    return SubscriptionOut(
        id=sub.id,
        url=sub.url,
        events=sub.events,
        format=sub.format,
        description=sub.description,
        owner_name=sub.owner_name,
        enabled=sub.enabled,
        failing_since=sub.failing_since,
        disabled_at=sub.disabled_at,
        disabled_reason=sub.disabled_reason,
        previous_secret_valid_until=sub.previous_until if sub.previous_secret_enc else None,
        created_at=sub.created_at,
        updated_at=sub.updated_at,
        deliveries={str(k): int(v) for k, v in counts.items()},
    ).model_dump(mode="json")


@router.post(
    "/subscriptions",
    status_code=201,
    response_model=SubscriptionCreated,
    summary="Subscribe a URL to your own orders' events (the signing secret is shown once)",
    responses=PROBLEMS,
)
async def subscribe(body: SubscriptionIn, request: Request, who: Who) -> dict:
    await _check_target(body.url)
    secret, now = signing.new_secret(), _now()
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        n = await session.scalar(select(func.count()).where(Subscription.owner == who.sub))
        if (n or 0) >= MAX_PER_OWNER:
            raise Problem(
                409, f"每个系统最多 {MAX_PER_OWNER} 个推送订阅", f"at most {MAX_PER_OWNER} subscriptions"
            )
        sub = Subscription(
            id=uuid.uuid4(),
            owner=who.sub,
            owner_name=(who.name or "")[:200],
            url=body.url,
            format=body.format,
            events=list(body.events),
            description=body.description,
            secret_enc=get_cipher().encrypt(secret),
            enabled=True,
            created_at=now,
            updated_at=now,
        )
        session.add(sub)
        await session.flush()
        out = await _out(session, sub)
    return {**out, "secret": secret}


@router.get("/subscriptions", response_model=list[SubscriptionOut], summary="Your subscriptions (admin: all)")
async def list_subscriptions(request: Request, who: Who) -> list[dict]:
    q = select(Subscription).order_by(Subscription.created_at)
    if "admin" not in who.roles or who.kind == "api_key":
        q = q.where(Subscription.owner == who.sub)
    async with request.app.state.rt.sessionmaker() as session:
        return [await _out(session, s) for s in (await session.scalars(q.limit(500))).all()]


@router.get(
    "/subscriptions/{subscription_id}",
    response_model=SubscriptionOut,
    summary="One subscription: enabled, failing since, disabled (the alert), delivery counts",
    responses=PROBLEMS,
)
async def get_subscription(subscription_id: uuid.UUID, request: Request, who: Who) -> dict:
    async with request.app.state.rt.sessionmaker() as session:
        return await _out(session, await _own(session, who, subscription_id))


@router.patch(
    "/subscriptions/{subscription_id}",
    response_model=SubscriptionOut,
    summary="Change URL, events, format; `enabled: true` re-enables a disabled subscription",
    responses=PROBLEMS,
)
async def patch_subscription(
    subscription_id: uuid.UUID, body: SubscriptionPatch, request: Request, who: Who
) -> dict:
    if body.url is not None:
        await _check_target(body.url)
    now = _now()
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        sub = await _own(session, who, subscription_id, lock=True)
        for name in ("url", "format", "description"):
            if getattr(body, name) is not None:
                setattr(sub, name, getattr(body, name))
        if body.events is not None:
            sub.events = list(body.events)
        if body.enabled is True and not sub.enabled:
            sub.enabled, sub.failing_since, sub.disabled_at, sub.disabled_reason = True, None, None, None
            await _requeue(session, sub, Delivery.status == "pending", now)  # due at once, a fresh 24 h
        elif body.enabled is False:
            sub.enabled, sub.disabled_at, sub.disabled_reason = (
                False,
                now,
                "由订阅方停用 | disabled by its owner",
            )
        sub.updated_at = now
        return await _out(session, sub)


@router.delete("/subscriptions/{subscription_id}", status_code=204, summary="Unsubscribe (its log goes too)")
async def delete_subscription(subscription_id: uuid.UUID, request: Request, who: Who) -> Response:
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        await session.delete(await _own(session, who, subscription_id, lock=True))
    return Response(status_code=204)


@router.post(
    "/subscriptions/{subscription_id}/rotate-secret",
    response_model=SecretOut,
    summary="A new signing secret (shown once); the old one still signs for the grace period",
    responses=PROBLEMS,
)
async def rotate_secret(subscription_id: uuid.UUID, request: Request, who: Who) -> dict:
    secret, now = signing.new_secret(), _now()
    until = now + timedelta(seconds=get_webhook_settings().rotation_grace_seconds)
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        sub = await _own(session, who, subscription_id, lock=True)
        sub.previous_secret_enc, sub.previous_until = sub.secret_enc, until
        sub.secret_enc, sub.updated_at = get_cipher().encrypt(secret) or "", now
    return {"secret": secret, "previous_secret_valid_until": until}


async def _requeue(session: AsyncSession, sub: Subscription, where, now: datetime) -> int:  # type: ignore[no-untyped-def]
    deadline = now + timedelta(seconds=get_webhook_settings().give_up_seconds)
    result = await session.execute(
        update(Delivery)
        .where(Delivery.subscription_id == sub.id, where)
        .values(status="pending", next_attempt_at=now, deadline_at=deadline, delivered_at=None)
        .returning(Delivery.id)
    )
    return len(result.all())


@router.post(
    "/subscriptions/{subscription_id}/replay",
    response_model=ReplayOut,
    status_code=202,
    summary="Send again every delivery written since a time (delivered or failed alike)",
    responses=PROBLEMS,
)
async def replay(subscription_id: uuid.UUID, body: ReplayIn, request: Request, who: Who) -> dict:
    if body.since.tzinfo is None:
        raise FieldProblem("since", "请带时区，如 2026-11-24T09:30:00+08:00", "give a time zone, e.g. +08:00")
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        sub = await _own(session, who, subscription_id, lock=True)
        return {"queued": await _requeue(session, sub, Delivery.created_at >= body.since, _now())}


async def _delivery(
    session: AsyncSession, who: Principal, delivery_id: uuid.UUID
) -> tuple[Delivery, Subscription]:
    row = (
        await session.execute(
            select(Delivery, Subscription)
            .join(Subscription, Subscription.id == Delivery.subscription_id)
            .where(Delivery.id == delivery_id, Subscription.owner == who.sub)
        )
    ).one_or_none()
    if row is None:
        raise Problem(404, "未找到该推送记录", "delivery not found")
    return row[0], row[1]


async def _delivery_out(session: AsyncSession, d: Delivery, *, log: bool) -> dict:
    attempts = []
    if log:
        rows = await session.scalars(select(Attempt).where(Attempt.delivery_id == d.id).order_by(Attempt.id))
        attempts = [AttemptOut.model_validate(a, from_attributes=True) for a in rows.all()]
    out = DeliveryOut.model_validate(d, from_attributes=True)
    out.attempt_log = attempts
    return out.model_dump(mode="json")


@router.get(
    "/subscriptions/{subscription_id}/deliveries",
    response_model=list[DeliveryOut],
    summary="Deliveries, newest first, with every attempt (status code, latency, error, next attempt)",
    responses=PROBLEMS,
)
async def list_deliveries(
    subscription_id: uuid.UUID,
    request: Request,
    who: Who,
    status: Annotated[str | None, Query(pattern="^(pending|delivered|failed)$")] = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict]:
    async with request.app.state.rt.sessionmaker() as session:
        sub = await _own(session, who, subscription_id)
        q = select(Delivery).where(Delivery.subscription_id == sub.id)
        if status:
            q = q.where(Delivery.status == status)
        if since:
            q = q.where(Delivery.created_at >= since)
        rows = (await session.scalars(q.order_by(Delivery.created_at.desc(), Delivery.id).limit(limit))).all()
        return [await _delivery_out(session, d, log=True) for d in rows]


@router.get(
    "/deliveries/{delivery_id}",
    response_model=DeliveryOut,
    summary="One delivery and its attempts",
    responses=PROBLEMS,
)
async def get_delivery(delivery_id: uuid.UUID, request: Request, who: Who) -> dict:
    async with request.app.state.rt.sessionmaker() as session:
        d, _ = await _delivery(session, who, delivery_id)
        return await _delivery_out(session, d, log=True)


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryOut,
    status_code=202,
    summary="Send one delivery again (same body, same event id; a fresh 24 h of retries)",
    responses=PROBLEMS,
)
async def redeliver(delivery_id: uuid.UUID, request: Request, who: Who) -> dict:
    async with request.app.state.rt.sessionmaker() as session, session.begin():
        d, sub = await _delivery(session, who, delivery_id)
        await _requeue(session, sub, Delivery.id == d.id, _now())
        await session.refresh(d)
        return await _delivery_out(session, d, log=False)
