"""Read side: the staff list (filters, keyset pagination, jurisdiction), the operator's caller
lookup, and the citizen's public tracking page."""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import orjson
from sqlalchemy import ColumnElement, Select, String, and_, bindparam, false, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import HANDLER, HOLDER, JURISDICTION, Principal
from libs.common.clock import CHINA_TZ
from libs.common.crypto import get_cipher
from libs.common.pii import mask_phone
from libs.common.problems import FieldProblem, Problem
from services.intake import domain, validation, visibility
from services.intake.access import LIST_ORDERS
from services.intake.models import TimelineEntry, WorkOrder

STATUS_ZH = {
    "received": "已受理",
    "offered": "已分派",
    "rerouting": "重新分派中",
    "escalated": "督办中",
    "assigned": "已接单",
    "in_progress": "办理中",
    "closed": "已办结",
    "merged": "已并单",
    "cancelled": "已撤销",
}
_NUMBER = re.compile(r"^LW\d{1,14}$", re.I)


@dataclass
class ListFilter:
    status: list[str] | None = None
    channel: str | None = None
    service_type: str | None = None
    domain: str | None = None
    region: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    overdue: bool | None = None
    special_group: str | None = None
    q: str | None = None
    cursor: str | None = None
    limit: int = 50


def encode_cursor(at: datetime, order_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([at.isoformat(), str(order_id)])).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        at, oid = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(at), uuid.UUID(oid)
    except Exception as exc:
        raise FieldProblem(
            "cursor", "分页游标无效，请从第一页重新查询", "invalid cursor: start from the first page"
        ) from exc


def _like_prefix(value: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", value) + "%"


def prefix_match(column, prefix: str):  # type: ignore[no-untyped-def]
    """`column LIKE 'prefix%'` as a range with the text_pattern_ops operators (the pattern index).
    The bounds are rendered as quoted literals, not bound parameters, so the planner sees how
    selective the prefix is: "1404" (the whole city) must not be planned like "140430001"."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    lo = bindparam(None, prefix, type_=String, literal_execute=True)
    hi = bindparam(None, upper, type_=String, literal_execute=True)
    return and_(column.op("~>=~")(lo), column.op("~<~")(hi))


def name_match(text_: str):  # type: ignore[no-untyped-def]
    """Names: a prefix (surname first) on the pattern index — 2-character names give pg_trgm
    nothing to work with (bench: ~470 ms p95 at 1 M orders as a substring scan). Three or more
    characters may also match inside the name, which the trigram index serves."""
    by_prefix = prefix_match(WorkOrder.requester_name, text_)
    if len(text_) < 3:
        return by_prefix
    return or_(by_prefix, WorkOrder.requester_name.ilike("%" + _like_prefix(text_), escape="\\"))


def effective_region(who: Principal, requested: str | None) -> str | None | Literal[False]:
    """The narrower of the caller's jurisdiction and the requested prefix: a region prefix, None
    for everywhere (neither narrows), False if they do not overlap (never with `requested` None)."""
    mine = who.region or ""
    want = requested or ""
    if want.startswith(mine):
        return want or None
    if mine.startswith(want):
        return mine or None
    return False


def number_day_bounds(number: str) -> list:  # type: ignore[type-arg]
    """An order number carries its local creation date (domain.format_number): bound created_at too,
    so a number search never walks the whole (created_at, id) index looking for a rare match."""
    try:
        day = datetime.strptime(number[2:10], "%Y%m%d").replace(tzinfo=CHINA_TZ)
    except ValueError:
        return []
    return [WorkOrder.created_at >= day - timedelta(days=1), WorkOrder.created_at < day + timedelta(days=2)]


def list_query(
    f: ListFilter,
    who: Principal,
    now: datetime,
    *,
    jurisdiction: bool = True,
    held: list[uuid.UUID] | None = None,
) -> Select:
    """`jurisdiction`: the caller sees their region's orders; `held`: and these (offered or given
    to them, wherever they are — visibility.held_orders)."""
    q = select(WorkOrder)
    region = effective_region(who, f.region) if jurisdiction else False
    if held:
        mine: ColumnElement[bool] = WorkOrder.id.in_(held)
        if f.region:
            mine = and_(mine, prefix_match(WorkOrder.region_code, f.region))
        if region is False:
            q = q.where(mine)
        elif region:
            q = q.where(or_(prefix_match(WorkOrder.region_code, region), mine))
        # region None: the caller's jurisdiction is everywhere — the held orders are in it already.
    elif region is False:
        return q.where(false())
    elif region:
        q = q.where(prefix_match(WorkOrder.region_code, region))
    if f.status:
        q = q.where(WorkOrder.status.in_(f.status))
    if f.channel:
        q = q.where(WorkOrder.channel == f.channel)
    if f.service_type:
        q = q.where(WorkOrder.service_type == f.service_type)
    if f.domain:
        q = q.where(WorkOrder.domain == f.domain)
    if f.created_from:
        q = q.where(WorkOrder.created_at >= f.created_from)
    if f.created_to:
        q = q.where(WorkOrder.created_at < f.created_to)
    if f.overdue is not None:
        late = and_(WorkOrder.status.notin_(domain.TERMINAL), WorkOrder.due_at < now)
        q = q.where(late if f.overdue else ~late)
    if f.special_group:
        q = q.where(WorkOrder.special_groups.contains([f.special_group]))
    if f.q:
        text_ = f.q.strip()
        if _NUMBER.match(text_):
            q = q.where(prefix_match(WorkOrder.number, text_.upper()), *number_day_bounds(text_))
        else:
            q = q.where(name_match(text_))
    if f.cursor:
        at, oid = decode_cursor(f.cursor)
        q = q.where(tuple_(WorkOrder.created_at, WorkOrder.id) < tuple_(at, oid))
    return q.order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc()).limit(f.limit + 1)


async def list_orders(
    session: AsyncSession, *, f: ListFilter, who: Principal, now: datetime
) -> tuple[list[WorkOrder], str | None]:
    grants = LIST_ORDERS.grants(who.roles)
    jurisdiction = JURISDICTION in grants
    held = []
    if grants & {HOLDER, HANDLER}:
        # Usually none outside the caller's region: the list then keeps its plain region filter.
        held = await visibility.held_orders(session, who=who, outside_region=jurisdiction)
    q = list_query(f, who, now, jurisdiction=jurisdiction, held=held)
    rows = list((await session.scalars(q)).all())
    more = len(rows) > f.limit
    rows = rows[: f.limit]
    return rows, encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None


def is_overdue(order: WorkOrder, now: datetime) -> bool:
    return order.status not in domain.TERMINAL and order.due_at is not None and order.due_at < now


def list_item(order: WorkOrder, now: datetime) -> dict:
    return {
        "id": order.id,
        "number": order.number,
        "status": order.status,
        "channel": order.channel,
        "service_type": order.service_type,
        "domain": order.domain,
        "region_code": order.region_code,
        "county_code": order.county_code,
        "requester_name": order.requester_name,
        "requester_phone_masked": mask_phone(order.requester_phone) or "",
        "special_groups": list(order.special_groups or []),
        "urgency": order.urgency,
        "urge_count": order.urge_count,
        "created_at": order.created_at,
        "due_at": order.due_at,
        "overdue": is_overdue(order, now),
        # Exports and figures need these; reading each closed order for them does not scale.
        "closed_at": order.closed_at,
        "close_reason": order.close_reason,
        "rating_score": order.rating_score,
    }


def requester_is(phone: str | None, id_number: str | None) -> ColumnElement[bool]:
    """Orders of this requester: by phone, or by ID number through the blind index — either
    mode's index, as rows indexed before a LAWLINE_CRYPTO switch keep theirs."""
    if not phone and not id_number:
        raise FieldProblem("phone", "请提供电话或身份证号", "give a phone number or an ID number")
    conds = []
    if phone:
        conds.append(WorkOrder.requester_phone == phone)
    if id_number:
        conds.append(WorkOrder.requester_id_bidx.in_(get_cipher().lookup_indexes(id_number)))
    return or_(*conds)


async def caller_orders(
    session: AsyncSession, *, phone: str | None, id_number: str | None, who: Principal, history: bool = False
) -> list[WorkOrder]:
    """首问负责: on a call, the operator sees the caller's open orders before taking a new one —
    and with `history`, the closed and merged ones too (what was done for them before)."""
    q = select(WorkOrder).where(requester_is(phone, id_number))
    if not history:
        q = q.where(WorkOrder.status.notin_(domain.TERMINAL))
    region = effective_region(who, None)
    if region:
        q = q.where(prefix_match(WorkOrder.region_code, region))
    return list((await session.scalars(q.order_by(WorkOrder.created_at.desc()).limit(50))).all())


_DUMMY_PHONE = "00000000000"


async def find_for_citizen(session: AsyncSession, *, number: str, phone_suffix: str) -> WorkOrder:
    """Same 404 for a wrong number and a wrong suffix, and the suffix is compared in constant
    time either way — the answer must not reveal whether the number exists."""
    order = await session.scalar(select(WorkOrder).where(WorkOrder.number == number.strip().upper()))
    ok = domain.suffix_matches(order.requester_phone if order else _DUMMY_PHONE, phone_suffix)
    if order is None or not ok:
        raise Problem(
            404,
            "未找到该工单，请核对工单号和电话后四位",
            "not found: check the order number and the last 4 phone digits",
        )
    return order


async def track(session: AsyncSession, *, order: WorkOrder) -> dict:
    entries = (
        await session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.work_order_id == order.id, TimelineEntry.public.is_(True))
            .order_by(TimelineEntry.at, TimelineEntry.id)
        )
    ).all()
    return {
        "number": order.number,
        "status": order.status,
        "status_label": STATUS_ZH.get(order.status, order.status),
        "service_type_label": validation.SERVICE_TYPES.get(order.service_type, order.service_type),
        "created_at": order.created_at,
        "closed_at": order.closed_at,
        "can_rate": order.status == domain.CLOSED and order.rating_score is None,
        "timeline": [
            {"at": e.at, "kind": e.kind, "text": e.text, "text_en": (e.data or {}).get("text_en") or None}
            for e in entries
        ],
    }
