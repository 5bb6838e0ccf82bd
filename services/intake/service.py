"""Intake use cases: idempotency, creating an order from any channel, reading one, folding
downstream events. Keyword-only arguments; never commits — the caller owns the transaction."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import orjson
from pydantic import BaseModel
from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import ObjectAccess, Principal
from libs.common.crypto import get_cipher
from libs.common.events import intake as ev
from libs.common.events.envelope import Envelope
from libs.common.events.payload import EventPayload
from libs.common.fastsql import FastStatement
from libs.common.orm import rowcount
from libs.common.pii import mask_phone, mask_text, phone_key
from libs.common.problems import FieldProblem, Problem
from libs.common.publisher import Prepared, Publisher, prepare
from services.intake import domain, fold, sms, validation, visibility
from services.intake.access import CONTACT, READ_ORDER
from services.intake.models import IdempotencyKey, TimelineEntry, WorkOrder, order_number_seq, outbox
from services.intake.webhooks import record as webhooks

SERVICE = "intake"
CHANNEL_ZH = {"web": "网络平台", "hotline": "12348 热线", "counter": "窗口", "external": "外部系统转办"}
CHANNEL_EN = {
    "web": "online",
    "hotline": "12348 hotline",
    "counter": "at the counter",
    "external": "from another system",
}


@dataclass
class IdempotentReplay:
    status_code: int
    body: dict
    headers: dict = field(default_factory=dict)


# ---- idempotency (Stripe-style) ---------------------------------------------------------
def request_hash(body: BaseModel | dict) -> str:
    data = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()


def scoped_key(who: Principal, key: str) -> str:
    """Keys are per caller (as Stripe's are per account): nobody replays another's response."""
    return hashlib.sha256(f"{who.sub}\0{key}".encode()).hexdigest()


async def claim_idempotency_key(
    session: AsyncSession,
    *,
    key: str,
    body_hash: str,
    now: datetime | None = None,
    ttl: timedelta | None = None,
) -> IdempotentReplay | None:
    """The INSERT waits on a concurrent holder of the same key until it commits, so racing
    requests make one order; the losers replay the stored answer."""
    inserted = await session.execute(
        insert(IdempotencyKey)
        .values(key=key, request_hash=body_hash, **({"created_at": now} if now else {}))
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(IdempotencyKey.key)
    )
    if inserted.first() is not None:
        return None
    stored = await session.get(IdempotencyKey, key, with_for_update=True)
    if stored is None:  # purged between our INSERT and this read: the key is free again, claim it
        return await claim_idempotency_key(session, key=key, body_hash=body_hash, now=now, ttl=ttl)
    if now and ttl and stored.created_at < now - ttl:
        # Expired but not yet purged: the key starts a fresh request.
        stored.request_hash, stored.status_code, stored.response, stored.created_at = (
            body_hash,
            None,
            None,
            now,
        )
        return None
    if stored.request_hash != body_hash:
        raise Problem(
            409,
            "该 Idempotency-Key 已用于另一份不同内容的请求，请换一个新的键重新提交",
            "this Idempotency-Key was already used with a different request body; use a new key",
        )
    return IdempotentReplay(stored.status_code or 201, stored.response or {})


async def store_idempotent_response(session: AsyncSession, *, key: str, status_code: int, body: dict) -> None:
    await session.execute(
        update(IdempotencyKey).where(IdempotencyKey.key == key).values(status_code=status_code, response=body)
    )


async def purge_idempotency_keys(session: AsyncSession, *, before: datetime) -> int:
    result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < before))
    return rowcount(result)


# ---- events and timeline ----------------------------------------------------------------
def next_sequence(order: WorkOrder) -> int:
    """The order's next revision, for the event about to be announced (the caller holds the
    order's row lock, or the order is new in this transaction: no two events share one)."""
    order.event_seq = (order.event_seq or 0) + 1
    return order.event_seq


PUBLISHER = Publisher(outbox, SERVICE)


def prepare_events(events: list[tuple[WorkOrder, str, EventPayload]]) -> list[Prepared]:
    """The outbox entries (libs.common.publisher) for each, subject the order, key its county,
    numbered with its order's next revisions — before the order's row is written, on the path
    that inserts it, so the INSERT carries the counter. The type is checked against the model."""
    return [
        prepare(
            payload,
            subject=str(order.id),
            key=order.county_code,
            type=event_type,
            sequence=next_sequence(order),
        )
        for order, event_type, payload in events
    ]


async def emit(session: AsyncSession, *, order: WorkOrder, event_type: str, payload: EventPayload) -> None:
    """Every state change announces itself in the same transaction (outbox)."""
    await enqueue_prepared(session, prepare_events([(order, event_type, payload)]))


async def emit_many(session: AsyncSession, events: list[tuple[WorkOrder, str, EventPayload]]) -> None:
    """A use case's events in one statement (libs.common.outbox.enqueue_many)."""
    await enqueue_prepared(session, prepare_events(events))


async def enqueue_prepared(
    session: AsyncSession, prepared: list[Prepared], *, filer: Principal | None = None
) -> None:
    """`filer`: on the create path, who files the request the events are about (see
    webhooks.on_prepared: only its own subscriptions can hear them)."""
    await PUBLISHER.publish_prepared(session, prepared)
    await webhooks.on_prepared(session, prepared, filer=filer)  # push-back deliveries, in its transaction
    await sms.on_events(session, prepared)  # the SMS an event calls for, in its transaction


def add_timeline(
    session: AsyncSession,
    order: WorkOrder,
    *,
    at: datetime,
    kind: str,
    text_: str,
    text_en: str = "",
    public: bool = True,
    **data,
) -> None:
    """One line of the order's timeline: the Chinese text, and its English (`data["text_en"]`) for
    a reader who chose English; extra keywords are kept in `data` for staff."""
    if text_en:
        data["text_en"] = text_en
    session.add(TimelineEntry(work_order_id=order.id, at=at, kind=kind, text=text_, public=public, data=data))


def created_payload(order: WorkOrder) -> ev.WorkOrderCreatedV1:
    return ev.WorkOrderCreatedV1(
        work_order_id=str(order.id),
        number=order.number,
        channel=order.channel,
        service_type=order.service_type,
        domain=order.domain,
        region_code=order.region_code,
        county_code=order.county_code,
        requester_name=order.requester_name,
        requester_phone_masked=mask_phone(order.requester_phone),
        description=mask_text(order.description),
        special_groups=list(order.special_groups or []),
        urgency=order.urgency,
        created_at=order.created_at,
        follow_up_of=str(order.follow_up_of) if order.follow_up_of else None,
        parent_id=str(order.parent_id) if order.parent_id else None,
        parties=[ev.PartyRefV1(**p) for p in order.party_indexes or []],
    )


def classified_payload(
    order: WorkOrder, *, by: Literal["auto", "operator", "merge"], at: datetime, operator: str | None = None
) -> ev.WorkOrderClassifiedV2:
    c = order.classification or {}
    return ev.WorkOrderClassifiedV2(
        work_order_id=str(order.id),
        county_code=order.county_code,
        service_type=order.service_type,
        domain=order.domain,
        service_confidence=c.get("service_confidence"),
        domain_confidence=c.get("domain_confidence"),
        evidence=c.get("evidence") or {},
        special_groups=list(order.special_groups or []),
        urgency=order.urgency,
        method=by,
        operator_username=None if operator == "auto" else operator,
        classified_at=at,
    )


def party_indexes(
    requester_id_bidx: str | None,
    parties: list,  # type: ignore[type-arg]
    requester_phone: str | None = None,
) -> list[dict]:  # type: ignore[type-arg]
    """Blind indexes for dispatch's conflict check (same keyed hash as dispatch's own `_index`):
    the requester's ID number and phone (dispatch indexes the requester's name itself) and each
    opposing party. Phones go through pii.phone_key first, as dispatch's own entries do."""
    cipher = get_cipher()

    def phone(p: str | None) -> str | None:
        key = phone_key(p)
        return cipher.blind_index(key) if key else None

    out = []
    if requester_id_bidx or requester_phone:
        out.append(
            {"side": "requester", "id_index": requester_id_bidx, "phone_index": phone(requester_phone)}
        )
    for p in parties:
        out.append(
            {
                "side": "counterparty",
                "name_index": cipher.blind_index(p.name.strip()) if p.name else None,
                "id_index": cipher.blind_index(p.id_number) if p.id_number else None,
                "phone_index": phone(getattr(p, "phone", None)),
            }
        )
    return out


# ---- reading ----------------------------------------------------------------------------
async def load_order(
    session: AsyncSession,
    *,
    order_id: uuid.UUID,
    who: Principal | None = None,
    lock: bool = False,
    access: ObjectAccess = READ_ORDER,
) -> WorkOrder:
    """The order, if `who` may see it for this kind of access (access.py; else 404)."""
    order = await session.get(WorkOrder, order_id, with_for_update=lock)
    if order is None:
        raise Problem(404, "未找到该工单", "work order not found")
    if who is not None:
        await visibility.ensure_order(session, order=order, who=who, access=access)
    return order


async def get_work_order(
    session: AsyncSession, *, order_id: uuid.UUID
) -> tuple[WorkOrder, list[TimelineEntry]]:
    order = await load_order(session, order_id=order_id)
    entries = (
        await session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.work_order_id == order_id)
            .order_by(TimelineEntry.at, TimelineEntry.id)
        )
    ).all()
    return order, list(entries)


async def reveal_id_number(session: AsyncSession, *, order_id: uuid.UUID, who: Principal) -> str | None:
    """The unmasked resident ID for an explicit, audited read (PIPL Art 51) — the endpoint and its
    access log belong to the security work; this is the one place that decrypts."""
    order = await load_order(session, order_id=order_id, who=who, access=CONTACT)
    return get_cipher().decrypt(order.requester_id_enc)


async def children_of(session: AsyncSession, order_id: uuid.UUID) -> list[WorkOrder]:
    return list((await session.scalars(select(WorkOrder).where(WorkOrder.parent_id == order_id))).all())


# ---- downstream events ------------------------------------------------------------------
async def apply_downstream_event(session: AsyncSession, *, event: Envelope) -> None:
    """Fold a dispatch / aid / mediation event into the order (services/intake/fold.py)."""
    await fold.apply_downstream_event(session, event=event)


# ---- helpers for create -----------------------------------------------------------------
_NEXT_NUMBER = FastStatement(select(order_number_seq.next_value()))  # see libs/common/fastsql.py


async def next_number(session: AsyncSession, now: datetime) -> str:
    seq = await _NEXT_NUMBER.fetchval(session)
    return domain.format_number(now, int(seq))


async def lock_external(session: AsyncSession, source: str, reference: str) -> WorkOrder | None:
    """Serialise requests for one (source, reference) and return the order it already made."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"ext:{source}:{reference}"}
    )
    return await session.scalar(
        select(WorkOrder).where(WorkOrder.external_source == source, WorkOrder.external_ref == reference)
    )


def check_channel_fields(data) -> None:  # type: ignore[no-untyped-def]
    """Cross-field rules a single field validator cannot see; errors name the field."""
    for name in ("hotline", "counter", "web", "external"):
        if getattr(data, name) is not None and data.channel != name:
            raise FieldProblem(
                name,
                f"渠道为 {data.channel} 时不能填写 {name} 信息",
                f"'{name}' details only go with channel '{name}' (got channel '{data.channel}')",
            )
    h = data.hotline
    if h and h.call_ended_at and h.call_ended_at < h.call_started_at:
        raise FieldProblem(
            "hotline.call_ended_at", "通话结束时间早于开始时间", "the call cannot end before it started"
        )
    if h and h.answered_on_call and not (h.answer_summary or "").strip():
        raise FieldProblem(
            "hotline.answer_summary",
            "当场解答的咨询须填写答复要点",
            "a consultation answered on the call needs the answer summary",
        )
    if h and h.answered_on_call and data.service_type not in (None, "consultation"):
        raise FieldProblem(
            "hotline.answered_on_call",
            "只有法律咨询可以当场解答办结",
            "only a consultation can be answered and closed on the call",
        )


def id_groups(id_number: str | None, now: datetime) -> set[str]:
    """Age from the ID number: 60+ elderly (老年人权益保障法 Art 2), under 18 minor (未成年人保护法 Art 2)."""
    if not id_number:
        return set()
    age = validation.age_on(id_number, now.date())
    return {"elderly"} if age >= 60 else {"minor"} if age < 18 else set()
