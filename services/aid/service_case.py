"""Use cases after the grant: lawyer assignment and acceptance, handling, closure, termination and
objection. Never commits — the caller owns the transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.calendar import WorkCalendar
from libs.common.orm import get_present
from libs.common.problems import FieldProblem
from services.aid import assignment, domain
from services.aid.models import Case, Lawyer
from services.aid.schemas import (
    AssignIn,
    CloseIn,
    LawyerAcceptIn,
    ObjectionDecisionIn,
    ReturnVisitIn,
    SubsidyIn,
    TerminateIn,
)
from services.aid.service_notification import _confirm_notification
from services.aid.settings import AidRules
from services.aid.workflow import (
    actor_of,
    actor_ref,
    ensure_own_lawyer,
    guard,
    local_day,
    settle_clocks,
    start_clock,
    start_statutory,
    step,
)

OPEN_STATES = ("assigned", "in_progress")


async def _candidates(session: AsyncSession, county: str) -> list[assignment.LawyerView]:
    lawyers = (await session.scalars(select(Lawyer).where(Lawyer.county_code == county, Lawyer.active))).all()
    ids = [lw.id for lw in lawyers]
    load = dict(
        (
            await session.execute(
                select(Case.lawyer_id, func.count())
                .where(Case.lawyer_id.in_(ids), Case.status.in_(OPEN_STATES))
                .group_by(Case.lawyer_id)
            )
        ).all()
    )
    views = {
        lw.id: assignment.LawyerView(
            lw.id, lw.name, lw.firm, lw.practice_years, load.get(lw.id, 0), lw.last_assigned_at
        )
        for lw in lawyers
    }
    # Conflict check runs against every party of every aid case the lawyer ever took.
    history = await session.execute(
        select(Case.lawyer_id, Case.applicant_name, Case.proxy, Case.matter).where(Case.lawyer_id.in_(ids))
    )
    for lawyer_id, applicant, proxy, matter in history:
        if lawyer_id is None:  # not selected (IN above); narrows the nullable column
            continue
        v = views[lawyer_id]
        v.clients.add(applicant)
        if proxy and proxy.get("name") and proxy.get("kind") != "custody":
            v.clients.add(proxy["name"])
        v.adversaries.update(matter.get("opposing_parties") or [])
    return list(views.values())


async def assign(
    session: AsyncSession, *, case: Case, body: AssignIn, who: Principal, now: datetime, rules: AidRules
) -> Case:
    guard(case, "assign")
    preferred = body.lawyer_id or (
        uuid.UUID(case.applicant["preferred_lawyer_id"])
        if case.applicant.get("preferred_lawyer_id")
        else None
    )
    parties = assignment.Parties(
        clients={case.applicant_name}
        | ({case.proxy["name"]} if case.proxy and case.proxy.get("kind") != "custody" else set()),
        adversaries=set(case.matter.get("opposing_parties") or []),
    )
    choice = assignment.choose(
        await _candidates(session, case.county_code),
        parties,
        needs_senior=case.grave_penalty,  # Art 26
        senior_years=rules.senior_practice_years,
        preferred=preferred,
        choice_allowed=case.county_code in rules.lawyer_choice_counties,  # 点援制 where the county allows
        excluded={uuid.UUID(x) for x in case.declined_by},
    )
    if choice.lawyer is None:
        raise FieldProblem(
            "lawyer_id", choice.reason, "no lawyer can be assigned: " + choice.reason, code="no_lawyer"
        )
    lw = choice.lawyer
    case.lawyer_id, case.lawyer_name, case.lawyer_firm = lw.id, lw.name, lw.firm
    case.assignment = {
        "rule": choice.rule,
        "reason": choice.reason,
        "rejected": choice.rejected,
        "assigned_at": now.isoformat(),
        "assigned_by": actor_of(who),
    }
    roster = await get_present(session, Lawyer, lw.id)
    roster.last_assigned_at = now
    await settle_clocks(session, case.id, "assignment", now=now)
    await step(
        session,
        case,
        "assign",
        now=now,
        actor=actor_ref(who),
        reason=choice.reason,
        details={"lawyer_id": str(lw.id), "rule": choice.rule},
    )
    if case.kind == "notification":
        await _confirm_notification(session, case, now=now)
    return case


async def lawyer_accept(
    session: AsyncSession, *, case: Case, body: LawyerAcceptIn, who: Principal, now: datetime
) -> Case:
    guard(case, "lawyer_accept")
    ensure_own_lawyer(case, who)
    case.assignment = {
        **(case.assignment or {}),
        "accepted_at": now.isoformat(),
        "firm_consent": {
            "firm": case.lawyer_firm,
            "by": body.firm_consent_by,
            "at": (body.firm_consent_at or now).isoformat(),
        },
    }
    await step(
        session, case, "lawyer_accept", now=now, actor=actor_ref(who), details={"firm": case.lawyer_firm}
    )
    return case


async def lawyer_decline(
    session: AsyncSession, *, case: Case, reason: str, who: Principal, now: datetime, cal: WorkCalendar
) -> Case:
    """Art 46: the assignee may not refuse without cause — so a cause is required, and recorded."""
    guard(case, "lawyer_decline")
    ensure_own_lawyer(case, who)
    case.declined_by = [*case.declined_by, str(case.lawyer_id)]
    case.lawyer_id = case.lawyer_name = case.lawyer_firm = None
    today = local_day(now)
    await start_statutory(session, case, "assignment", today, cal)
    await step(session, case, "lawyer_decline", now=now, actor=actor_ref(who), reason=reason)
    return case


async def report_progress(
    session: AsyncSession, *, case: Case, note: str, who: Principal, now: datetime
) -> Case:
    guard(case, "report_progress")
    ensure_own_lawyer(case, who)
    await step(session, case, "report_progress", now=now, actor=actor_ref(who), reason=note)
    return case


async def close(session: AsyncSession, *, case: Case, body: CloseIn, who: Principal, now: datetime) -> Case:
    """Art 50: the lawyer submits the case documents and a report on closing."""
    guard(case, "close")
    ensure_own_lawyer(case, who)
    case.closure = {**body.model_dump(mode="json"), "closed_at": now.isoformat()}
    await step(session, case, "close", now=now, actor=actor_ref(who), reason=body.outcome)
    return case


async def record_subsidy(
    session: AsyncSession, *, case: Case, body: SubsidyIn, who: Principal, now: datetime
) -> Case:
    """Art 52: the agency pays the lawyer's subsidy."""
    guard(case, "record_subsidy")
    case.subsidy = {"amount": str(body.amount), "standard": body.standard, "recorded_at": now.isoformat()}
    await step(
        session, case, "record_subsidy", now=now, actor=actor_ref(who), details={"amount": str(body.amount)}
    )
    return case


async def return_visit(
    session: AsyncSession, *, case: Case, body: ReturnVisitIn, who: Principal, now: datetime
) -> Case:
    """Art 55–59 (quality supervision): the recipient is asked how the case was handled."""
    guard(case, "return_visit")
    case.return_visit = {**body.model_dump(), "at": now.isoformat(), "by": actor_of(who)}
    await step(
        session,
        case,
        "return_visit",
        now=now,
        actor=actor_ref(who),
        details={"satisfaction": body.satisfaction},
    )
    return case


async def archive(session: AsyncSession, *, case: Case, who: Principal, now: datetime) -> Case:
    guard(case, "archive")  # with its rule: closure, subsidy and return visit on file
    case.archived_at = now
    await step(session, case, "archive", now=now, actor=actor_ref(who))
    return case


def _objection_notice() -> str:
    return "如有异议，可以向设立法律援助机构的司法行政部门提出，司法行政部门应当自收到异议之日起五日内作出决定（第四十九条）。"


async def terminate(
    session: AsyncSession, *, case: Case, body: TerminateIn, who: Principal, now: datetime
) -> Case:
    """Art 48: only the listed causes end aid, each with a recorded reason."""
    guard(case, "terminate")
    problems = domain.termination_problems(body.cause, body.reason)
    if problems:
        raise FieldProblem("cause", "；".join(problems), "not a valid Art 48 termination")
    case.termination = {
        "cause": body.cause,
        "cause_text": domain.TERMINATION_CAUSES[body.cause],
        "reason": body.reason,
        "at": now.isoformat(),
        "letter": f"依据《法律援助法》第四十八条（{domain.TERMINATION_CAUSES[body.cause]}），终止法律援助：{body.reason}。"
        + _objection_notice(),
    }
    await settle_clocks(session, case.id, "assignment", now=now, cancel=True)
    await step(
        session,
        case,
        "terminate",
        now=now,
        actor=actor_ref(who),
        reason=body.reason,
        details={"cause": body.cause},
    )
    return case


async def file_objection(
    session: AsyncSession, *, case: Case, reason: str, who: Principal, now: datetime, cal: WorkCalendar
) -> Case:
    """Art 49: an objection to a refusal or termination, decided within 5 days."""
    guard(case, "object")  # with its rule: one objection per decision
    against = "refusal" if case.status == "refused" else "termination"
    today = local_day(now)
    due = domain.clock_due(cal, "objection", today)
    case.objection = {
        "against": against,
        "reason": reason,
        "filed_at": now.isoformat(),
        "due": due.due.isoformat(),
    }
    await start_clock(
        session,
        case,
        "objection",
        today,
        due,
        domain.CLOCKS["objection"].article,
        days=domain.CLOCKS["objection"].days,
    )
    await step(
        session, case, "object", now=now, actor=actor_ref(who), reason=reason, details={"against": against}
    )
    return case


async def decide_objection(
    session: AsyncSession,
    *,
    case: Case,
    body: ObjectionDecisionIn,
    who: Principal,
    now: datetime,
    cal: WorkCalendar,
) -> Case:
    action = "objection_accept" if body.outcome == "accept" else "objection_reject"
    guard(case, action)
    case.objection = {
        **(case.objection or {}),
        "outcome": body.outcome,
        "decision_reason": body.reason,
        "decided_at": now.isoformat(),
    }
    await settle_clocks(session, case.id, "objection", now=now)
    if action == "objection_accept":
        # 责令改正: aid is (re)granted and a lawyer must be assigned within 3 days (Art 43).
        today = local_day(now)
        case.lawyer_id = case.lawyer_name = case.lawyer_firm = None
        await start_statutory(session, case, "assignment", today, cal)
    await step(
        session,
        case,
        action,
        now=now,
        actor=actor_ref(who),
        reason=body.reason,
        details={"outcome": body.outcome},
    )
    return case
