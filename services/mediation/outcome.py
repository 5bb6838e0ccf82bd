"""Outcomes and what follows them: the 调解协议书 (Art 28–30), failure (Art 26), extensions,
judicial-confirmation reminder (Art 33), performance follow-up (Art 31), the return visit, and
the deadline sweeper (supervision). Never commits — the caller owns the transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.calendar import WorkCalendar
from libs.common.events import mediation as ev
from libs.common.orm import present
from libs.common.problems import FieldProblem, Problem
from libs.common.workflow import refused
from services.mediation import domain
from services.mediation.models import Agreement, Case, FollowUp, MediationSession
from services.mediation.schemas import (
    AgreementIn,
    ConfirmationApplicationIn,
    ExtensionIn,
    FailIn,
    FollowUpIn,
    OralAgreementIn,
    SignIn,
)
from services.mediation.service import guard, parties_of, publish_case, step
from services.mediation.workflow import _party, routes_told


async def ensure_session_held(session: AsyncSession, case: Case, action: str) -> None:
    """人民调解法 Art 22, 27, 28: an agreement comes out of a mediation that was held (409 if none)."""
    held = await session.scalar(
        select(func.count())
        .select_from(MediationSession)
        .where(MediationSession.case_id == case.id, MediationSession.status == "held")
    )
    problem = domain.agreement_before_session(int(held or 0))
    if problem:
        raise refused(case.status, action, problem, ["record_session"])


async def draft_agreement(
    session: AsyncSession, *, case: Case, body: AgreementIn, now: datetime
) -> Agreement:
    guard(case, "draft_agreement")
    await ensure_session_held(session, case, "draft_agreement")
    contents = body.model_dump()
    missing = domain.missing_art29(contents)  # Art 29 contents
    if missing:
        raise FieldProblem(
            missing[0], "调解协议书缺少第二十九条规定的事项", f"missing Art 29 contents: {missing}"
        )
    agreement = Agreement(case_id=case.id, form="written", drafted_at=now, **contents)
    session.add(agreement)
    for p in await parties_of(session, case.id):
        p.sign_method, p.signed_at = None, None
    await step(session, case, "draft_agreement", now=now, citizen_text="调解协议书已拟定，待各方签署")
    return agreement


async def sign(
    session: AsyncSession, *, case: Case, body: SignIn, who: Principal, now: datetime, cal: WorkCalendar
) -> list[str]:
    """Record one signature / seal; the agreement takes effect only when all are there (Art 29).
    Returns what is still missing (empty once effective)."""
    guard(case, "sign_agreement")
    agreement = await session.scalar(select(Agreement).where(Agreement.case_id == case.id))
    agreement = present(agreement, "agreement of case", case.id)  # agreement_pending implies a draft
    if body.signer == "party":
        if body.party_id is None:  # SignIn requires it for a party; checked here for other callers
            raise FieldProblem(
                "party_id", "当事人签署须指明 party_id", "party_id required for a party's signature"
            )
        party = await _party(session, case, body.party_id)
        party.sign_method, party.signed_at = body.method, now
    elif body.signer == "mediator":
        # Only the mediator of the case signs as mediator (a supervisor cannot sign for them).
        if not who.staff_id or case.mediator_staff_id is None or who.staff_id != str(case.mediator_staff_id):
            raise Problem(
                403, "只能由本案人民调解员本人签名", "only the case's mediator may sign as mediator"
            )
        agreement.mediator_signed_at = now
    else:
        agreement.committee_sealed_at = now
    parties = await parties_of(session, case.id)
    effective, missing = domain.agreement_effective(
        party_signatures=[p.sign_method for p in parties],
        mediator_signed=agreement.mediator_signed_at is not None,
        committee_sealed=agreement.committee_sealed_at is not None,
    )
    await step(
        session,
        case,
        "sign_agreement",
        now=now,
        citizen_text="调解协议书签署中",
        data={"signer": body.signer, "missing": missing},
    )
    if effective:
        agreement.effective_at = now
        await _agreed(session, case, "agreement_effective", "agreed_written", now=now, cal=cal)
    return missing


async def oral_agreement(
    session: AsyncSession, *, case: Case, body: OralAgreementIn, now: datetime, cal: WorkCalendar
) -> Agreement:
    """Art 28: the parties need no written agreement; the mediator records the content.
    Art 30: it is effective the day it is reached."""
    guard(case, "oral_agreement")
    await ensure_session_held(session, case, "oral_agreement")
    agreement = Agreement(
        case_id=case.id,
        form="oral",
        terms=body.terms,
        performance_manner=body.performance_manner,
        performance_deadline=body.performance_deadline,
        drafted_at=now,
        effective_at=now,
    )
    session.add(agreement)
    await _agreed(session, case, "oral_agreement", "agreed_oral", now=now, cal=cal)
    return agreement


async def _agreed(
    session: AsyncSession, case: Case, action: str, outcome: str, *, now: datetime, cal: WorkCalendar
) -> None:
    case.outcome = outcome
    case.concluded_at = now
    form = "written" if outcome == "agreed_written" else "oral"
    offered, deadline, text = domain.confirmation_offer(case.dispute_type, form, domain.local_date(now), cal)
    case.confirmation = {
        "offered": offered,
        "deadline": deadline.due.isoformat() if deadline else None,
        "warnings": deadline.warnings if deadline else [],
        "text": text,
    }
    citizen = "调解成功，调解协议已生效。" + (text if offered else "")
    await step(session, case, action, now=now, citizen_text=citizen, data={"confirmation": case.confirmation})


async def fail(session: AsyncSession, *, case: Case, body: FailIn, now: datetime) -> None:
    """Art 26: mediation that fails ends, and the parties are told the other routes."""
    guard(case, "fail")
    case.outcome, case.close_reason, case.routes_told = "failed", body.reason, routes_told(case)
    await step(
        session,
        case,
        "fail",
        now=now,
        reason=body.reason,
        citizen_text="调解未能达成协议，调解终止。可通过仲裁、行政、诉讼等途径维护权利",
        data={"routes": case.routes_told},
    )


async def extend(
    session: AsyncSession, *, case: Case, body: ExtensionIn, now: datetime, cal: WorkCalendar
) -> None:
    """Extension only with every party's consent (DOMAIN.md: 'extension only by consent')."""
    guard(case, "extend")
    parties = await parties_of(session, case.id)
    consents = {str(i): True for i in body.consenting_party_ids}
    missing = domain.extension_allowed(consents, [str(p.id) for p in parties])
    if missing:
        names = "、".join(p.name for p in parties if str(p.id) in missing)
        raise FieldProblem(
            "consenting_party_ids",
            f"延长调解期限须经全体当事人同意，尚未同意：{names}",
            "every party must consent",
        )
    base = case.due_date or domain.local_date(now)
    due = cal.add_days(base, body.days)
    case.extensions = [
        *case.extensions,
        {
            "from": base.isoformat(),
            "to": due.due.isoformat(),
            "days": body.days,
            "reason": body.reason,
            "at": now.isoformat(),
        },
    ]
    case.due_date, case.deadline_warnings = due.due, due.warnings
    await step(
        session,
        case,
        "extend",
        now=now,
        reason=body.reason,
        citizen_text=f"经各方当事人同意，调解期限延长至 {due.due}",
        data={"due_date": due.due.isoformat()},
    )


async def follow_up(
    session: AsyncSession, *, case: Case, body: FollowUpIn, who: Principal, now: datetime
) -> FollowUp:
    """Art 31: the committee supervises performance; a return visit (回访) then closes the case."""
    action = "follow_up" if body.kind == "performance" else "return_visit"
    guard(case, action)
    if body.kind == "performance" and not body.performance:
        raise FieldProblem(
            "performance", "履行回访须记录履行情况（全部/部分/未履行）", "performance is required"
        )
    row = FollowUp(
        case_id=case.id,
        kind=body.kind,
        performance=body.performance,
        satisfied=body.satisfied,
        note=body.note,
        staff_id=who.staff_id,
        at=now,
    )
    session.add(row)
    text = "调解组织已回访协议履行情况" if body.kind == "performance" else "调解组织已回访，案件办结"
    await step(session, case, action, now=now, citizen_text=text, data={"performance": body.performance})
    return row


async def record_confirmation_application(
    session: AsyncSession, *, case: Case, body: ConfirmationApplicationIn, now: datetime
) -> None:
    """Record that the parties jointly applied to the court for judicial confirmation (Art 33)."""
    guard(case, "confirmation_applied")
    parties = [str(p.id) for p in await parties_of(session, case.id)]
    problem = domain.confirmation_application_problem(
        case.confirmation, body.applied_on, parties, [str(i) for i in body.applying_party_ids]
    )
    if problem:
        raise refused(case.status, "confirmation_applied", problem, domain.allowed_actions(case.status))
    application = {
        "applied_on": body.applied_on.isoformat(),
        "court": body.court,
        "recorded_at": now.isoformat(),
    }
    case.confirmation = {**(case.confirmation or {}), "application": application}
    await step(
        session,
        case,
        "confirmation_applied",
        now=now,
        citizen_text=f"双方已向{body.court}共同申请司法确认",
        data=application,
    )


async def sweep_deadlines(session: AsyncSession, *, now: datetime, limit: int = 500) -> list[Case]:
    """Supervision (督办): every open case past its due date raises one breach event per due date
    (an extension sets a new due date that can be breached again). Safe to run on several replicas."""
    today = domain.local_date(now)
    cases = (
        await session.scalars(
            select(Case)
            .where(
                Case.status.in_(domain.OPEN_STATUSES),
                Case.due_date < today,
                (Case.breach_reported_for.is_(None)) | (Case.breach_reported_for != Case.due_date),
            )
            .order_by(Case.due_date)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for case in cases:
        if case.due_date is None:  # not selected (due_date < today above); narrows the column
            continue
        case.breach_reported_for = case.due_date
        await publish_case(session, case, _breach(case, now, (today - case.due_date).days))
        await step(
            session,
            case,
            "deadline_breached",
            now=now,
            citizen_text="案件已超过调解期限，已提请督办",
            data={"due_date": case.due_date.isoformat()},
        )
    return list(cases)


def _breach(case: Case, now: datetime, days_over: int) -> Any:
    return ev.MediationDeadlineBreachedV1(
        case_id=str(case.id),
        case_number=case.number,
        work_order_id=str(case.work_order_id) if case.work_order_id else None,
        county_code=case.county_code,
        committee_id=str(case.committee_id) if case.committee_id else None,
        mediator_staff_id=str(case.mediator_staff_id) if case.mediator_staff_id else None,
        status=case.status,
        due_date=case.due_date or now.date(),
        basis=case.deadline_basis or "",
        days_over=days_over,
        at=now,
    )
