"""Shared steps of every use case: guarded transitions (the table and its 409 are
libs.common.workflow's; here the log row + outbox event in the caller's transaction),
statutory clocks, case lookup with row lock and visibility."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, false, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, region_filter
from libs.common.calendar import Deadline, WorkCalendar
from libs.common.clock import CHINA_TZ
from libs.common.events import aid as ev
from libs.common.events.payload import EventPayload
from libs.common.problems import Problem
from libs.common.publisher import Publisher
from services.aid import domain
from services.aid.models import Case, CaseClock, CaseLog, outbox

SERVICE = "aid"

ACTION_EVENTS = {
    "receive": ev.APPLICATION_RECEIVED,
    "request_materials": ev.MATERIALS_REQUESTED,
    "accept_application": ev.APPLICATION_ACCEPTED,
    "supplement_partial": ev.APPLICATION_RECEIVED,
    "withdraw": ev.WITHDRAWN,
    "grant": ev.GRANTED,
    "refuse": ev.REFUSED,
    "provide_first": ev.GRANTED,
    "assign": ev.LAWYER_ASSIGNED,
    "lawyer_accept": ev.LAWYER_ACCEPTED,
    "lawyer_decline": ev.LAWYER_DECLINED,
    "report_progress": ev.PROGRESS_REPORTED,
    "close": ev.CLOSED,
    "record_subsidy": ev.SUBSIDY_RECORDED,
    "return_visit": ev.RETURN_VISITED,
    "archive": ev.ARCHIVED,
    "terminate": ev.TERMINATED,
    "object": ev.OBJECTION_FILED,
    "objection_accept": ev.OBJECTION_DECIDED,
    "objection_reject": ev.OBJECTION_DECIDED,
    "notify": ev.NOTIFICATION_RECEIVED,
    "correct_receipt": ev.RECEIPT_CORRECTED,
}


def local_day(now: datetime) -> date:
    return now.astimezone(CHINA_TZ).date()


@dataclass(frozen=True)
class Actor:
    """Who made a step, as the transition event names it (AidCaseTransitionV2: `*_id` a UUID,
    `*_username` a login name) and, in `log`, as the case log and the case's records keep it."""

    kind: ev.ActorKind
    log: str  # the staff id, else the token subject (`apikey:<key id>` for a key), else "system"
    staff_id: str | None = None
    username: str | None = None
    key_id: str | None = None


SYSTEM = Actor(kind="system", log="system")


def actor_ref(who: Principal | None) -> Actor:
    if who is None:
        return SYSTEM
    if who.kind == "api_key":
        return Actor(kind="api_key", log=who.sub, key_id=who.sub.removeprefix("apikey:"))
    staff = staff_uuid(who)
    return Actor(
        kind="staff",
        log=who.staff_id or who.sub,
        staff_id=str(staff) if staff else None,
        username=who.sub,
    )


def actor_of(who: Principal | None) -> str:
    return actor_ref(who).log


def guard(case: Case, action: str) -> str:
    """The state after `action`, or the one 409 (libs.common.workflow) listing what is allowed."""
    return domain.MACHINE.ensure_allowed(case.status, action, case)


PUBLISHER = Publisher(outbox, SERVICE)


async def publish_case(
    session: AsyncSession, case: Case, payload: EventPayload, *, type: str | None = None
) -> None:
    """A case's event: subject and record key are the case id (the aid topic's key)."""
    await PUBLISHER.publish(session, payload, subject=str(case.id), key=str(case.id), type=type)


async def publish_breach(
    session: AsyncSession, case: Case, *, clock: str, article: str, due: date, now: datetime
) -> None:
    """A statutory clock of the case ran out (the sweeper's, or custody forwarding's 24 h)."""
    await publish_case(
        session,
        case,
        ev.AidDeadlineBreachedV1(
            case_id=str(case.id),
            case_number=case.number,
            work_order_id=str(case.work_order_id) if case.work_order_id else None,
            county_code=case.county_code,
            clock=clock,
            article=article,
            due=due,
            breached_at=now,
        ),
    )


async def step(
    session: AsyncSession,
    case: Case,
    action: str,
    *,
    now: datetime,
    actor: Actor,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    from_state: str | None = "",
    to_state: str | None = None,
) -> None:
    """Apply one transition: state, 全程留痕 log row and the outbox event, all in one transaction."""
    before = case.status if from_state == "" else from_state
    # The table only: the use case ran the rule hooks before it changed the case.
    after = to_state or domain.MACHINE.ensure_allowed(case.status, action)
    case.status = after
    case.updated_at = now
    details = details or {}
    session.add(
        CaseLog(
            case_id=case.id,
            action=action,
            from_state=before,
            to_state=after,
            actor=actor.log,
            reason=reason,
            details=details,
            at=now,
        )
    )
    await publish_case(
        session,
        case,
        ev.AidCaseTransitionV2(
            case_id=str(case.id),
            case_number=case.number,
            work_order_id=str(case.work_order_id) if case.work_order_id else None,
            county_code=case.county_code,
            action=action,
            from_state=before,
            to_state=after,
            reason=reason,
            actor_kind=actor.kind,
            actor_staff_id=actor.staff_id,
            actor_username=actor.username,
            actor_key_id=actor.key_id,
            details=details,
            at=now,
        ),
        type=ACTION_EVENTS[action],
    )


async def start_clock(
    session: AsyncSession,
    case: Case,
    name: str,
    start: date,
    deadline: Deadline,
    article: str,
    *,
    days: int,
    counts_from: str | None = None,
) -> CaseClock:
    """`days` and `counts_from` are kept so the clock can be recomputed (a corrected receipt,
    a holiday year entered later)."""
    clock = CaseClock(
        case_id=case.id,
        name=name,
        article=article,
        started_on=start,
        due=deadline.due,
        warnings=deadline.warnings,
        days=days,
        counts_from=counts_from,
    )
    session.add(clock)
    return clock


async def start_statutory(
    session: AsyncSession,
    case: Case,
    name: str,
    start: date,
    cal: WorkCalendar,
    *,
    counts_from: str | None = None,
) -> CaseClock:
    """One of the statutory clocks (domain.CLOCKS), counted per 民法典 Art 201/203 from `start`."""
    rule = domain.CLOCKS[name]
    due = domain.clock_due(cal, name, start)
    return await start_clock(
        session, case, name, start, due, rule.article, days=rule.days, counts_from=counts_from
    )


async def settle_clocks(
    session: AsyncSession, case_id: uuid.UUID, *names: str, now: datetime, cancel: bool = False
) -> None:
    """Mark open clocks met (the duty was done) or cancelled (the duty lapsed, e.g. suspended)."""
    column = CaseClock.cancelled_at if cancel else CaseClock.met_at
    await session.execute(
        update(CaseClock)
        .where(
            CaseClock.case_id == case_id,
            CaseClock.name.in_(names),
            CaseClock.met_at.is_(None),
            CaseClock.cancelled_at.is_(None),
        )
        .values({column: now})
    )


async def open_clock(session: AsyncSession, case_id: uuid.UUID, name: str) -> CaseClock | None:
    return await session.scalar(
        select(CaseClock).where(
            CaseClock.case_id == case_id,
            CaseClock.name == name,
            CaseClock.met_at.is_(None),
            CaseClock.cancelled_at.is_(None),
        )
    )


def staff_uuid(who: Principal) -> uuid.UUID | None:
    """The caller's staff id as our UUID, or None: an external IdP may issue any string."""
    try:
        return uuid.UUID(who.staff_id) if who.staff_id else None
    except (ValueError, TypeError, AttributeError):
        return None


def visible(who: Principal) -> ColumnElement[bool]:
    """Jurisdiction for everyone; a lawyer sees only the cases assigned to them."""
    cond = region_filter(Case.region_code, who)
    if who.roles <= {"lawyer"}:
        lawyer_id = staff_uuid(who)
        # No usable staff id → no case at all (never `lawyer_id IS NULL`, i.e. every unassigned case).
        cond = cond & (Case.lawyer_id == lawyer_id if lawyer_id is not None else false())
    return cond


async def load_for_update(session: AsyncSession, case_id: uuid.UUID, who: Principal | None) -> Case:
    """Row-locked: two clerks acting at once are serialised, so guards see the true state."""
    q = select(Case).where(Case.id == case_id).with_for_update()
    if who is not None:
        q = q.where(visible(who))
    case = await session.scalar(q)
    if case is None:
        raise Problem(404, "未找到该案件", "case not found")
    return case


def ensure_own_lawyer(case: Case, who: Principal) -> None:
    """Only the assigned lawyer acts as the lawyer on a case."""
    if not who.staff_id or case.lawyer_id is None or str(case.lawyer_id) != who.staff_id:
        raise Problem(403, "只有本案承办律师可以执行此操作", "only the assigned lawyer may do this")
