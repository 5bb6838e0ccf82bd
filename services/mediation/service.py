"""Use cases of the mediation service: registration, reading, and the transition helper every
workflow step goes through. Never commits — the caller owns the transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit, regions
from libs.common.auth import Principal, ensure_visible, region_filter
from libs.common.calendar import WorkCalendar
from libs.common.crypto import get_cipher
from libs.common.events import dispatch
from libs.common.events import mediation as ev
from libs.common.events.payload import EventPayload
from libs.common.orm import get_present
from libs.common.pii import mask_id_number
from libs.common.problems import FieldProblem, Problem
from libs.common.publisher import Publisher
from libs.common.receipt import Receipt, resolve
from services.mediation import domain
from services.mediation.models import (
    Agreement,
    Case,
    Committee,
    FollowUp,
    MediationSession,
    Party,
    Recusal,
    case_number_seq,
    outbox,
)
from services.mediation.schemas import CaseIn, PartyIn, PartyOut
from services.mediation.settings import clock_rules

SERVICE = "mediation"


# --- the transition helper: guard, change, event — one transaction -------------------------------


def guard(case: Case, action: str) -> str:
    """The status `action` leads to, or the one 409 (libs.common.workflow) listing what is allowed."""
    return domain.MACHINE.ensure_allowed(case.status, action, case)


async def step(
    session: AsyncSession,
    case: Case,
    action: str,
    *,
    now: datetime,
    citizen_text: str,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Apply `action` to the case and enqueue its event (work_order_id included for intake's timeline)."""
    before = case.status
    # The table only: the use case ran the rule hooks before it changed the case.
    case.status = domain.MACHINE.ensure_allowed(case.status, action)
    case.updated_at = now
    if case.status == "closed" and case.concluded_at is None:
        case.concluded_at = now
    await publish_case(
        session,
        case,
        ev.MediationCaseTransitionedV1(
            case_id=str(case.id),
            case_number=case.number,
            work_order_id=str(case.work_order_id) if case.work_order_id else None,
            county_code=case.county_code,
            action=action,
            from_status=before,
            to_status=case.status,
            outcome=case.outcome,
            reason=reason,
            citizen_text=citizen_text,
            data=data or {},
            at=now,
        ),
    )


PUBLISHER = Publisher(outbox, SERVICE)


async def publish_case(session: AsyncSession, case: Case, payload: EventPayload) -> None:
    """A case's event: subject and record key are the case id (the mediation topic's key)."""
    await PUBLISHER.publish(session, payload, subject=str(case.id), key=str(case.id))


# --- registration -------------------------------------------------------------------------------


async def committee_for_region(session: AsyncSession, region_code: str) -> Committee | None:
    """The nearest non-enterprise committee: the village's / township's own, else the county joint one."""
    for region in regions.chain(region_code):
        found = await session.scalar(
            select(Committee).where(Committee.region_code == region.code, Committee.kind != "enterprise")
        )
        if found:
            return found
    return None


def _party_row(case_id: uuid.UUID, seq: int, p: PartyIn, source: str) -> Party:
    cipher = get_cipher()
    return Party(
        id=uuid.uuid4(),
        case_id=case_id,
        seq=seq,
        side=p.side,
        kind=p.kind,
        name=p.name,
        id_number_enc=cipher.encrypt(p.id_number),
        id_number_index=cipher.blind_index(p.id_number),
        id_number_masked=mask_id_number(p.id_number),
        org_code=p.org_code,
        legal_representative=p.legal_representative,
        phone=p.phone,
        address=p.address,
        consent=domain.initial_consent(source, p.side),  # Art 17
    )


async def _new_case(
    session: AsyncSession, *, now: datetime, cal: WorkCalendar, received: Receipt, by: str, **values: Any
) -> Case:
    seq = await session.scalar(case_number_seq.next_value())
    # The period counts from the day the application / referral was received, not registered
    # (民法典 Art 201: from the next day).
    due, basis = domain.mediation_deadline(
        values["source"], values.get("court_procedure"), domain.local_date(received.at), cal, clock_rules()
    )
    values.update(
        number=domain.format_case_number(now, values["county_code"], int(seq)),
        received_at=received.at,
        receipt={**received.record(by=by, entered_at=now, source=values["source"]), "corrections": []},
        opened_at=now,
        updated_at=now,
        status="registered",
        due_date=due.due,
        deadline_basis=basis,
        deadline_warnings=due.warnings,
        extensions=[],
    )
    return Case(**values)


def _already_registered() -> Problem:
    return Problem(
        409,
        "该工单已登记调解案件，请在案件列表中按工单查找",
        "this work order already has a mediation case; find it in the case list by work order",
        code="work_order_has_case",
    )


async def register(
    session: AsyncSession, *, body: CaseIn, who: Principal, now: datetime, cal: WorkCalendar
) -> Case:
    committee = await session.get(Committee, body.committee_id)
    if committee is None:
        raise FieldProblem("committee_id", "未找到该人民调解委员会", "unknown committee")
    ensure_visible(who, committee.region_code)
    applicants = [p for p in body.parties if p.side == "applicant"]
    if not applicants:
        raise FieldProblem("parties", "至少需要一名申请人", "at least one applicant is required")
    if body.work_order_id is not None:
        # One case per work order (the unique index; dispatch.assigned may have opened it
        # already). The index stays the last word against a concurrent register.
        if await session.scalar(select(Case.id).where(Case.work_order_id == body.work_order_id)):
            raise _already_registered()
    received = resolve(
        received_at=body.received_at,
        reason=body.receipt_reason,
        now=now,
        label=("收到调解申请的时间", "received_at"),
    )
    case = await _new_case(
        session,
        now=now,
        cal=cal,
        received=received,
        by=who.staff_id or who.sub,
        id=uuid.uuid4(),
        work_order_id=body.work_order_id,
        county_code=committee.county_code,
        region_code=committee.region_code,
        committee_id=committee.id,
        applicant_name=applicants[0].name,
        summary=body.summary,
        claims=body.claims,
        dispute_type=body.dispute_type,
        source=body.source,
        court_procedure=body.court_procedure,
        referral_body=body.referral_body,
    )
    session.add(case)
    try:
        await session.flush()
    except IntegrityError as exc:
        if "work_order_id" in str(exc.orig):
            raise _already_registered() from exc
        raise
    for i, p in enumerate(body.parties):
        session.add(_party_row(case.id, i + 1, p, body.source))
    if received.entered or received.backdated:
        await audit.record(
            session,
            service=SERVICE,
            action="mediation.receipt_entered",
            subject=str(case.id),
            detail={"received_at": received.at.isoformat(), "reason": received.reason},
        )
    await _opened(session, case, now)
    return case


async def open_case_from_assignment(
    session: AsyncSession, *, assigned: dispatch.AssignedV1, now: datetime, cal: WorkCalendar
) -> Case | None:
    """dispatch.assigned for a mediation order: the requester applied (source = application)."""
    if not domain.opens_case(assigned.service_type):
        return None
    committee = await committee_for_region(session, assigned.region_code)
    case = await _new_case(
        session,
        now=now,
        cal=cal,
        # Received when the mediator took the order (a paper application received earlier is
        # corrected by staff, with a reason).
        received=resolve(received_at=None, reason=None, now=now),
        by="system",
        id=uuid.uuid4(),
        work_order_id=uuid.UUID(assigned.work_order_id),
        county_code=assigned.county_code,
        region_code=assigned.region_code,
        committee_id=committee.id if committee else None,
        mediator_staff_id=uuid.UUID(assigned.staff_id),
        staff_name=assigned.staff_name,
        mediator_chosen_by="committee",  # dispatch routes on the committee's behalf (Art 19)
        applicant_name=assigned.requester_name,
        summary=assigned.description,
        dispute_type=domain.guess_dispute_type(assigned.description),
        source="application",
    )
    values = {c.key: getattr(case, c.key) for c in Case.__table__.columns if getattr(case, c.key) is not None}
    inserted = await session.execute(
        insert(Case)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["work_order_id"])
        .returning(Case.id)
    )
    if inserted.first() is None:  # the case exists: a redelivery, or the order changed hands
        await follow_reassignment(session, assigned=assigned, now=now)
        return None
    case = await get_present(session, Case, values["id"])  # inserted just above
    applicant = PartyIn.model_construct(side="applicant", kind="person", name=assigned.requester_name)
    session.add(_party_row(case.id, 1, applicant, "application"))
    await _opened(session, case, now)
    return case


async def follow_reassignment(session: AsyncSession, *, assigned: dispatch.AssignedV1, now: datetime) -> bool:
    """The order went to another mediator after the first one took it (退单, 转办, a holder
    deactivated: dispatch lifecycle.release_holdings): the open case follows the order, its
    mediator is whoever holds the order now (dispatch routes on the committee's behalf, Art 19).
    A redelivered assignment to the same mediator, or a case past mediating, changes nothing."""
    staff_id = uuid.UUID(assigned.staff_id)
    case = await session.scalar(
        select(Case).where(Case.work_order_id == uuid.UUID(assigned.work_order_id)).with_for_update()
    )
    if case is None or case.mediator_staff_id == staff_id:
        return False
    if case.status not in domain.MACHINE.edges["assign_mediator"]:  # concluded: the record stays
        return False
    case.mediator_staff_id, case.staff_name, case.mediator_chosen_by = (
        staff_id,
        assigned.staff_name,
        "committee",
    )
    await step(
        session,
        case,
        "assign_mediator",
        now=now,
        citizen_text="已由调解委员会指派人民调解员",
        data={"staff_id": str(staff_id), "chosen_by": "committee", "via": "dispatch"},
    )
    return True


async def _opened(session: AsyncSession, case: Case, now: datetime) -> None:
    await publish_case(
        session,
        case,
        ev.MediationCaseOpenedV1(
            case_id=str(case.id),
            case_number=case.number,
            work_order_id=str(case.work_order_id) if case.work_order_id else None,
            county_code=case.county_code,
            mediator_staff_id=str(case.mediator_staff_id) if case.mediator_staff_id else None,
            opened_at=now,
        ),
    )


async def add_parties(session: AsyncSession, *, case: Case, parties: list[PartyIn], now: datetime) -> None:
    guard(case, "add_party")
    start = await session.scalar(
        select(func.coalesce(func.max(Party.seq), 0)).where(Party.case_id == case.id)
    )
    for i, p in enumerate(parties):
        session.add(_party_row(case.id, int(start or 0) + i + 1, p, case.source))
    await step(
        session,
        case,
        "add_party",
        now=now,
        citizen_text="已登记纠纷当事人",
        data={"added": len(parties)},
    )


async def update_registration(
    session: AsyncSession, *, case: Case, changes: dict[str, Any], now: datetime
) -> None:
    """Correct the dispute type, summary or claims (e.g. the first guess on a dispatched order)."""
    guard(case, "update_registration")
    changed = {k: v for k, v in changes.items() if v is not None and getattr(case, k) != v}
    for key, value in changed.items():
        setattr(case, key, value)
    await step(
        session,
        case,
        "update_registration",
        now=now,
        citizen_text="案件登记信息已更新",
        data={"fields": sorted(changed)},
    )


# --- reading --------------------------------------------------------------------------------------


def _visible(who: Principal):  # type: ignore[no-untyped-def]
    return region_filter(Case.region_code, who)


async def list_cases(
    session: AsyncSession,
    *,
    who: Principal,
    work_order_id: uuid.UUID | None = None,
    status: str | None = None,
    committee_id: uuid.UUID | None = None,
    before: datetime | None = None,
    limit: int = 100,
) -> list[Case]:
    """Keyset pagination on opened_at (pass the last row's opened_at as `before`)."""
    q = select(Case).where(_visible(who)).order_by(Case.opened_at.desc(), Case.id.desc()).limit(limit)
    if work_order_id:
        q = q.where(Case.work_order_id == work_order_id)
    if status:
        q = q.where(Case.status == status)
    if committee_id:
        q = q.where(Case.committee_id == committee_id)
    if before:
        q = q.where(Case.opened_at < before)
    return list((await session.scalars(q)).all())


async def load(session: AsyncSession, case_id: uuid.UUID, who: Principal, *, lock: bool = False) -> Case:
    q = select(Case).where(Case.id == case_id, _visible(who))
    if lock:
        q = q.with_for_update()
    case = await session.scalar(q)
    if case is None:
        raise Problem(404, "未找到该案件", "case not found")
    return case


async def parties_of(session: AsyncSession, case_id: uuid.UUID) -> list[Party]:
    return list(
        (await session.scalars(select(Party).where(Party.case_id == case_id).order_by(Party.seq))).all()
    )


async def detail(session: AsyncSession, case: Case) -> dict[str, Any]:
    parties = await parties_of(session, case.id)
    sessions = (
        await session.scalars(
            select(MediationSession)
            .where(MediationSession.case_id == case.id)
            .order_by(MediationSession.scheduled_at)
        )
    ).all()
    agreement = await session.scalar(select(Agreement).where(Agreement.case_id == case.id))
    follow_ups = (
        await session.scalars(select(FollowUp).where(FollowUp.case_id == case.id).order_by(FollowUp.at))
    ).all()
    recusals = (await session.scalars(select(Recusal).where(Recusal.case_id == case.id))).all()
    out = {c.key: getattr(case, c.key) for c in Case.__table__.columns}
    out.update(
        allowed_actions=domain.allowed_actions(case.status),
        parties=[PartyOut.of(p) for p in parties],
        sessions=[_row(s) for s in sessions],
        agreement=_row(agreement) if agreement else None,
        follow_ups=[_row(f) for f in follow_ups],
        recusals=[_row(r) for r in recusals],
    )
    return out


def _row(obj: Any) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in type(obj).__table__.columns if c.key != "case_id"}
