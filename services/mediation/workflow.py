"""The mediation workflow under 人民调解法: consent, mediators, sessions, risk. Each function
guards its transition, changes state and enqueues the event in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.bilingual import Text
from libs.common.events import mediation as ev
from libs.common.pii import mask_text
from libs.common.problems import FieldProblem, Problem
from libs.common.workflow import refused
from services.mediation import domain, liaison
from services.mediation.models import (
    Case,
    Committee,
    MediationSession,
    Mediator,
    Party,
    PoliceLiaison,
    Recusal,
)
from services.mediation.schemas import ConsentIn, MediatorIn, RecusalIn, RiskIn, SessionIn, SessionRecordIn
from services.mediation.service import guard, parties_of, publish_case, step


def _refused(case: Case, action: str, why: Text, **extra: str) -> Problem:
    """A rule about the mediator (not the case's state) refuses the step: the one 409 all the same."""
    return refused(case.status, action, why, domain.allowed_actions(case.status), **extra)


def routes_told(case: Case) -> list[dict[str, str]]:
    return [{"route": r.code, "text": r.zh} for r in domain.other_routes(case.dispute_type)]


async def _party(session: AsyncSession, case: Case, party_id: uuid.UUID, field: str = "party_id") -> Party:
    party = await session.get(Party, party_id)
    if party is None or party.case_id != case.id:
        raise FieldProblem(field, "该当事人不属于本案", "party is not part of this case")
    return party


# --- consent (Art 17, 23) ------------------------------------------------------------------------


async def record_consent(session: AsyncSession, *, case: Case, body: ConsentIn, now: datetime) -> None:
    if body.decision == "refused":
        guard(case, "refuse")
    else:
        guard(case, "consent")
    party = await _party(session, case, body.party_id)
    party.consent, party.consent_method, party.consent_at = body.decision, body.method, now
    if body.decision == "refused":
        party.refusal_reason = body.reason
        await stop_on_refusal(session, case=case, party=party, reason=body.reason or "", now=now)
        return
    await step(session, case, "consent", now=now, citizen_text="已记录当事人同意调解")
    parties = await parties_of(session, case.id)
    if domain.consent_complete([(p.side, p.consent) for p in parties]):
        await step(session, case, "accept", now=now, citizen_text="各方当事人均同意调解，调解委员会已受理")


async def stop_on_refusal(
    session: AsyncSession, *, case: Case, party: Party, reason: str, now: datetime
) -> None:
    """Art 17: one party's clear refusal means no mediation; Art 23: a party may ask to stop at any
    stage. The case closes with the reason and the other routes are told (Art 26)."""
    case.outcome = "refused"
    case.close_reason = f"当事人{party.name}拒绝（或要求终止）调解：{reason}"
    case.routes_told = routes_told(case)
    await step(
        session,
        case,
        "refuse",
        now=now,
        reason=case.close_reason,
        citizen_text="因当事人不同意调解，调解终止。可通过仲裁、行政、诉讼等途径维护权利",
        data={"routes": case.routes_told},
    )


# --- mediators (Art 19) --------------------------------------------------------------------------


def availability(m: Mediator) -> domain.Availability:
    return domain.Availability(m.active, m.on_leave_until, [tuple(s) for s in m.slots])


async def _recused(session: AsyncSession, case_id: uuid.UUID) -> set[str]:
    rows = await session.scalars(select(Recusal.staff_id).where(Recusal.case_id == case_id))
    return {str(s) for s in rows}


async def _pick_for_committee(session: AsyncSession, case: Case, today, exclude: set[str]) -> Mediator:  # type: ignore[no-untyped-def]
    """The committee designates (Art 19): someone available in the committee's own township first,
    then the county, with the fewest open cases."""
    committee = await session.get(Committee, case.committee_id) if case.committee_id else None
    region = committee.region_code if committee else case.region_code
    load = (
        select(func.count())
        .select_from(Case)
        .where(Case.mediator_staff_id == Mediator.staff_id, Case.status.in_(domain.OPEN_STATUSES))
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            select(Mediator, load).where(
                Mediator.county_code == case.county_code, Mediator.role == "mediator"
            )
        )
    ).all()
    township = region[:9]
    ranked = sorted(
        (
            r
            for r in rows
            if str(r[0].staff_id) not in exclude and not domain.unavailable_reason(availability(r[0]), today)
        ),
        key=lambda r: (not r[0].region_code.startswith(township), r[1], r[0].name),
    )
    if not ranked:
        none = Text("本辖区暂无可指派的人民调解员", "no available mediator in this county")
        raise _refused(case, "assign_mediator", none)
    return ranked[0][0]


async def assign_mediator(
    session: AsyncSession, *, case: Case, body: MediatorIn, who: Principal, now: datetime
) -> Mediator:
    guard(case, "assign_mediator")
    today = domain.local_date(now)
    recused = await _recused(session, case.id)
    if body.staff_id is None:
        if body.chosen_by == "parties":
            raise FieldProblem(
                "staff_id", "当事人选择调解员时须指明调解员", "name the mediator the parties chose"
            )
        mediator = await _pick_for_committee(session, case, today, recused)
    else:
        chosen = await session.get(Mediator, body.staff_id)
        if chosen is None:
            raise FieldProblem("staff_id", "未找到该人民调解员", "unknown mediator")
        mediator = chosen
        reason = domain.unavailable_reason(availability(mediator), today)
        if reason:
            raise _refused(case, "assign_mediator", reason, staff_id=str(mediator.staff_id))
    names = [p.name for p in await parties_of(session, case.id)]
    conflict = domain.conflict_with(mediator.name, names, recused, str(mediator.staff_id))
    if conflict:
        raise _refused(case, "assign_mediator", conflict, staff_id=str(mediator.staff_id))
    case.mediator_staff_id, case.staff_name, case.mediator_chosen_by = (
        mediator.staff_id,
        mediator.name,
        body.chosen_by,
    )
    by = "由当事人选定" if body.chosen_by == "parties" else "由调解委员会指定"
    await step(
        session,
        case,
        "assign_mediator",
        now=now,
        citizen_text=f"已{by}人民调解员",
        data={"staff_id": str(mediator.staff_id), "chosen_by": body.chosen_by},
    )
    return mediator


async def recuse(session: AsyncSession, *, case: Case, body: RecusalIn, now: datetime) -> None:
    """A mediator related to a party steps aside: recorded, and refused on any later assignment."""
    guard(case, "recuse")
    if body.party_id:
        await _party(session, case, body.party_id)
    session.add(
        Recusal(
            case_id=case.id,
            staff_id=body.staff_id,
            party_id=body.party_id,
            relation=body.relation,
            raised_by=body.raised_by,
            at=now,
        )
    )
    was_assigned = case.mediator_staff_id == body.staff_id
    if was_assigned:
        case.mediator_staff_id, case.staff_name, case.mediator_chosen_by = None, None, None
    await step(
        session,
        case,
        "recuse",
        now=now,
        reason=body.relation,
        citizen_text="调解员因利害关系回避，将另行确定调解员" if was_assigned else "已记录调解员回避",
        data={"staff_id": str(body.staff_id), "was_assigned": was_assigned},
    )


# --- sessions (Art 20, 22, 23, 27) ---------------------------------------------------------------


async def schedule_session(
    session: AsyncSession, *, case: Case, body: SessionIn, now: datetime
) -> MediationSession:
    guard(case, "schedule_session")  # with its rule: a mediator is assigned (domain.NO_MEDIATOR)
    row = MediationSession(
        case_id=case.id,
        scheduled_at=body.scheduled_at,
        location=body.location,
        public=body.public,  # the parties' choice (Art 23)
        invited=body.invited,  # relatives, neighbours, colleagues with the parties' consent (Art 20)
        status="scheduled",
        attendance={},
    )
    session.add(row)
    await session.flush()
    await step(
        session,
        case,
        "schedule_session",
        now=now,
        citizen_text=f"调解会已安排于 {body.scheduled_at.astimezone(domain.CHINA_TZ):%Y-%m-%d %H:%M}",
        data={"session_id": str(row.id), "public": body.public},
    )
    return row


async def record_session(
    session: AsyncSession,
    *,
    case: Case,
    session_id: uuid.UUID,
    body: SessionRecordIn,
    who: Principal,
    now: datetime,
    webhook_url: str | None = None,
) -> MediationSession:
    guard(case, "record_session")
    row = await session.get(MediationSession, session_id)
    if row is None or row.case_id != case.id:
        raise Problem(404, "未找到该调解会", "session not found")
    parties = await parties_of(session, case.id)
    ids = {p.id for p in parties}
    stray = [str(i) for i in body.present_party_ids if i not in ids]
    if stray:
        raise FieldProblem("present_party_ids", "出席人不是本案当事人", f"not parties of this case: {stray}")
    row.attendance = {str(p.id): p.id in body.present_party_ids for p in parties}
    row.notes, row.status, row.held_at = body.notes, "held", now  # 调解记录 (Art 27)
    await step(
        session,
        case,
        "record_session",
        now=now,
        citizen_text="调解会已召开",
        data={"session_id": str(row.id)},
    )
    if body.risk:  # noticed during the session: reported at once (Art 25)
        await report_risk(session, case=case, body=body.risk, who=who, now=now, webhook_url=webhook_url)
    return row


async def report_risk(
    session: AsyncSession,
    *,
    case: Case,
    body: RiskIn,
    who: Principal,
    now: datetime,
    webhook_url: str | None = None,
) -> PoliceLiaison:
    """Art 25: a dispute that may turn into a public-order or criminal case is reported to the police
    at once — an item in the police-liaison queue that a person acknowledges, the configured webhook
    (retried until accepted), and the urgent event for everyone else."""
    guard(case, "report_risk")
    case.risk_flag = True
    item = await liaison.open_item(session, case=case, body=body, who=who, now=now, webhook_url=webhook_url)
    await publish_case(
        session,
        case,
        ev.MediationRiskReportedV1(
            case_id=str(case.id),
            case_number=case.number,
            work_order_id=str(case.work_order_id) if case.work_order_id else None,
            county_code=case.county_code,
            region_code=case.region_code,
            risk_kind=body.risk_kind,
            description=mask_text(body.description),
            reported_by_staff_id=who.staff_id,
            at=now,
        ),
    )
    await step(
        session,
        case,
        "report_risk",
        now=now,
        citizen_text="调解组织已采取防止纠纷激化的措施",
        data={"risk_kind": body.risk_kind, "liaison_id": str(item.id)},
    )
    return item
