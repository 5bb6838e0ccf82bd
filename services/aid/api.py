"""HTTP routes of the aid service: schema in → service → schema out, nothing else."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, principal, region_filter
from libs.common.calendar import WorkCalendar
from libs.common.workflow import run_action
from services.aid import (
    document,
    domain,
    examples,
    queries,
    service,
    service_case,
    service_decision,
    service_notification,
    service_receipt,
)
from services.aid.calendar_store import load_calendar
from services.aid.models import Case, Lawyer
from services.aid.schemas import (
    ApplicationIn,
    AssignIn,
    CaseOut,
    ClockOut,
    CloseIn,
    DecisionIn,
    LawyerAcceptIn,
    LogOut,
    NotificationIn,
    ObjectionDecisionIn,
    ProgressIn,
    ReasonIn,
    ReceiptIn,
    ReturnVisitIn,
    SubsidyIn,
    SupplementIn,
    TerminateIn,
    WindowApplicationIn,
    china_time,
)
from services.aid.settings import AidRules, get_rules
from services.aid.sweeper import sweep
from services.aid.uploads import rules as upload_rules
from services.aid.uploads import service as uploads
from services.aid.uploads.schemas import ChecklistItemOut
from services.aid.workflow import load_for_update

router = APIRouter(prefix="/v1", tags=["legal aid"])
Who = Annotated[Principal, Depends(principal)]


@dataclass
class Ctx:
    now: datetime
    cal: WorkCalendar
    rules: AidRules
    who: Principal


async def _out(session: AsyncSession, case: Case) -> CaseOut:
    clocks = [ClockOut.model_validate(c) for c in await queries.clocks_of(session, case.id)]
    checklist = [
        ChecklistItemOut.model_validate(i)
        for i in await uploads.checklist_of(session, case, get_rules(), datetime.now(UTC))
    ]
    return CaseOut.model_validate(case).model_copy(
        update={
            "allowed_actions": domain.allowed_actions(case.status),
            "clocks": clocks,
            "checklist": checklist,
        }
    )


async def _act(
    request: Request,
    case_id: uuid.UUID,
    who: Principal,
    run: Callable[[AsyncSession, Case, Ctx], Awaitable[Any]],
) -> CaseOut:
    rt = request.app.state.rt

    async def apply(session: AsyncSession, case: Case) -> None:
        ctx = Ctx(rt.clock.now(), await load_calendar(session), rt.ext.rules, who)
        await run(session, case, ctx)

    return await run_action(
        rt.sessionmaker, load=lambda session: load_for_update(session, case_id, who), apply=apply, answer=_out
    )


@router.get("/cases", response_model=list[CaseOut], summary="法律援助 cases (newest first, keyset paged)")
async def list_cases(
    request: Request,
    who: Who,
    work_order_id: uuid.UUID | None = None,
    status: str | None = Query(
        default=None, max_length=32, json_schema_extra={"enum": sorted(domain.STATES)}
    ),
    before_opened_at: datetime | None = None,
    before_id: uuid.UUID | None = None,
    id_number: str | None = Query(
        default=None, min_length=18, max_length=18, description="exact match, e.g. 重复申请"
    ),
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CaseOut]:
    before = (china_time(before_opened_at), before_id) if before_opened_at and before_id else None
    async with request.app.state.rt.sessionmaker() as session:
        cases = await queries.list_cases(
            session,
            who=who,
            work_order_id=work_order_id,
            status=status,
            before=before,
            id_number=id_number,
            limit=limit,
        )
    return [
        CaseOut.model_validate(c).model_copy(update={"allowed_actions": domain.allowed_actions(c.status)})
        for c in cases
    ]


@router.get(
    "/cases/{case_id}", response_model=CaseOut, summary="One case, with its clocks and allowed actions"
)
async def get_case(case_id: uuid.UUID, request: Request, who: Who) -> CaseOut:
    async with request.app.state.rt.sessionmaker() as session:
        return await _out(session, await queries.get_case(session, case_id=case_id, who=who))


@router.get(
    "/cases/{case_id}/documents/{kind}.html",
    response_class=HTMLResponse,
    summary="A printable document of the case: materials (一次性告知书), decision (给予/不予法律援助决定书), "
    "assignment (指派通知书)",
    responses={
        **examples.ok(examples.DOCUMENT_HTML, "text/html"),
        404: {"description": "no such case or document"},
        409: {"description": "not issued yet"},
    },
)
async def case_document(
    case_id: uuid.UUID,
    kind: Annotated[str, Path(json_schema_extra={"enum": sorted(document.KINDS)})],
    request: Request,
    who: Who,
) -> HTMLResponse:
    async with request.app.state.rt.sessionmaker() as session:
        case = await queries.get_case(session, case_id=case_id, who=who)
        return HTMLResponse(document.render(kind, case, now=request.app.state.rt.clock.now()))


@router.get("/cases/{case_id}/log", response_model=list[LogOut], summary="全程留痕: every step of the case")
async def case_log(case_id: uuid.UUID, request: Request, who: Who) -> list[LogOut]:
    async with request.app.state.rt.sessionmaker() as session:
        case = await queries.get_case(session, case_id=case_id, who=who)
        return [LogOut.model_validate(e) for e in await queries.log_of(session, case.id)]


@router.get(
    "/rules",
    summary="Matters in scope, Art 42 exemptions, Art 48 causes, notification grounds",
    responses=examples.ok(examples.RULES),
)
async def rules(request: Request, who: Who) -> dict[str, Any]:
    r: AidRules = request.app.state.rt.ext.rules
    province = who.region[:2] if len(who.region) >= 2 else "14"
    return {
        "matters": r.all_matters(province),
        "no_means_test": r.no_means_test_art32,
        "exemptions": {k: {"label": v[0], "proofs": list(v[1])} for k, v in domain.EXEMPTIONS.items()},
        "attachments": domain.ATTACHMENT_NAMES,
        "termination_causes": domain.TERMINATION_CAUSES,
        "notification_grounds": domain.NOTIFICATION_GROUNDS,
        "threshold": vars(r.threshold(province)),
        "lawyer_choice_counties": sorted(r.lawyer_choice_counties),
        # What an uploaded document may be (services/aid/uploads/rules.py).
        "uploads": {
            "types": list(upload_rules.ACCEPTED.values()),
            "max_bytes": request.app.state.rt.ext.upload_limits.max_bytes,
        },
    }


@router.get(
    "/lawyers", summary="Legal-aid lawyer roster of a county", responses=examples.ok(examples.LAWYERS)
)
async def lawyers(
    request: Request, who: Who, county_code: str = Query(min_length=6, max_length=6)
) -> list[dict]:  # type: ignore[type-arg]
    async with request.app.state.rt.sessionmaker() as session:
        rows = await session.scalars(
            select(Lawyer)
            .where(Lawyer.county_code == county_code, region_filter(Lawyer.region_code, who))
            .order_by(Lawyer.name)
        )
        return [
            {
                "id": str(x.id),
                "name": x.name,
                "firm": x.firm,
                "practice_years": x.practice_years,
                "active": x.active,
            }
            for x in rows
        ]


@router.post(
    "/applications", response_model=CaseOut, status_code=201, summary="Application at the legal-aid window"
)
async def apply(body: WindowApplicationIn, request: Request, who: Who) -> CaseOut:
    rt = request.app.state.rt
    async with rt.sessionmaker() as session:
        async with session.begin():
            case = await service.apply_at_window(
                session,
                body=body,
                who=who,
                now=rt.clock.now(),
                cal=await load_calendar(session),
                rules=rt.ext.rules,
            )
        return await _out(session, case)


@router.post(
    "/cases/{case_id}/application", response_model=CaseOut, summary="Fill in the application of a case"
)
async def submit(case_id: uuid.UUID, body: ApplicationIn, request: Request, who: Who) -> CaseOut:
    return await _act(
        request,
        case_id,
        who,
        lambda s, c, x: service.submit_application(
            s, case=c, body=body, who=x.who, now=x.now, cal=x.cal, rules=x.rules
        ),
    )


@router.post(
    "/cases/{case_id}/supplement", response_model=CaseOut, summary="Materials supplied after 一次性告知"
)
async def supplement(case_id: uuid.UUID, body: SupplementIn, request: Request, who: Who) -> CaseOut:
    return await _act(
        request,
        case_id,
        who,
        lambda s, c, x: service.supplement(
            s, case=c, body=body, who=x.who, now=x.now, cal=x.cal, rules=x.rules
        ),
    )


@router.post(
    "/cases/{case_id}/receipt",
    response_model=CaseOut,
    summary="Correct when the application / notice was received (reason required; clocks recomputed)",
)
async def correct_receipt(case_id: uuid.UUID, body: ReceiptIn, request: Request, who: Who) -> CaseOut:
    return await _act(
        request,
        case_id,
        who,
        lambda s, c, x: service_receipt.correct_receipt(
            s, case=c, body=body, who=x.who, now=x.now, cal=x.cal, rules=x.rules
        ),
    )


@router.post("/cases/{case_id}/withdraw", response_model=CaseOut, summary="The applicant withdraws")
async def withdraw(case_id: uuid.UUID, body: ReasonIn, request: Request, who: Who) -> CaseOut:
    return await _act(
        request,
        case_id,
        who,
        lambda s, c, x: service_decision.withdraw(s, case=c, reason=body.reason, who=x.who, now=x.now),
    )


@router.post("/cases/{case_id}/decision", response_model=CaseOut, summary="Grant or refuse (Art 43)")
async def decide(case_id: uuid.UUID, body: DecisionIn, request: Request, who: Who) -> CaseOut:
    return await _act(
        request,
        case_id,
        who,
        lambda s, c, x: service_decision.decide(
            s, case=c, body=body, who=x.who, now=x.now, cal=x.cal, rules=x.rules
        ),
    )


@router.post(
    "/cases/{case_id}/assign", response_model=CaseOut, summary="Assign a lawyer (点援制 or rotation)"
)
async def assign(case_id: uuid.UUID, body: AssignIn, request: Request, who: Who) -> CaseOut:
    return await _act(
        request,
        case_id,
        who,
        lambda s, c, x: service_case.assign(s, case=c, body=body, who=x.who, now=x.now, rules=x.rules),
    )


@router.post(
    "/cases/{case_id}/lawyer-accept", response_model=CaseOut, summary="The lawyer accepts (firm agrees)"
)
async def lawyer_accept(case_id: uuid.UUID, body: LawyerAcceptIn, request: Request, who: Who) -> CaseOut:
    return await _act(
        request,
        case_id,
        who,
        lambda s, c, x: service_case.lawyer_accept(s, case=c, body=body, who=x.who, now=x.now),
    )


@router.post(
    "/cases/{case_id}/lawyer-decline",
    response_model=CaseOut,
    summary="The lawyer declines with cause (Art 46)",
)
async def lawyer_decline(case_id: uuid.UUID, body: ReasonIn, request: Request, who: Who) -> CaseOut:
    return await _act(
        request,
        case_id,
        who,
        lambda s, c, x: service_case.lawyer_decline(
            s, case=c, reason=body.reason, who=x.who, now=x.now, cal=x.cal
        ),
    )


@router.post("/cases/{case_id}/progress", response_model=CaseOut, summary="Progress report by the lawyer")
async def progress(case_id: uuid.UUID, body: ProgressIn, request: Request, who: Who) -> CaseOut:
    return await _act(
        request,
        case_id,
        who,
        lambda s, c, x: service_case.report_progress(s, case=c, note=body.note, who=x.who, now=x.now),
    )


@router.post(
    "/cases/{case_id}/close", response_model=CaseOut, summary="Closure with documents and report (Art 50)"
)
async def close(case_id: uuid.UUID, body: CloseIn, request: Request, who: Who) -> CaseOut:
    return await _act(
        request, case_id, who, lambda s, c, x: service_case.close(s, case=c, body=body, who=x.who, now=x.now)
    )


@router.post("/cases/{case_id}/subsidy", response_model=CaseOut, summary="Subsidy paid (Art 52)")
async def subsidy(case_id: uuid.UUID, body: SubsidyIn, request: Request, who: Who) -> CaseOut:
    return await _act(
        request,
        case_id,
        who,
        lambda s, c, x: service_case.record_subsidy(s, case=c, body=body, who=x.who, now=x.now),
    )


@router.post("/cases/{case_id}/return-visit", response_model=CaseOut, summary="Return visit to the recipient")
async def return_visit(case_id: uuid.UUID, body: ReturnVisitIn, request: Request, who: Who) -> CaseOut:
    return await _act(
        request,
        case_id,
        who,
        lambda s, c, x: service_case.return_visit(s, case=c, body=body, who=x.who, now=x.now),
    )


@router.post("/cases/{case_id}/archive", response_model=CaseOut, summary="Archive a closed case")
async def archive(case_id: uuid.UUID, request: Request, who: Who) -> CaseOut:
    return await _act(
        request, case_id, who, lambda s, c, x: service_case.archive(s, case=c, who=x.who, now=x.now)
    )


@router.post("/cases/{case_id}/terminate", response_model=CaseOut, summary="Terminate for an Art 48 cause")
async def terminate(case_id: uuid.UUID, body: TerminateIn, request: Request, who: Who) -> CaseOut:
    return await _act(
        request,
        case_id,
        who,
        lambda s, c, x: service_case.terminate(s, case=c, body=body, who=x.who, now=x.now),
    )


@router.post(
    "/cases/{case_id}/objection", response_model=CaseOut, summary="Objection to refusal/termination (Art 49)"
)
async def objection(case_id: uuid.UUID, body: ReasonIn, request: Request, who: Who) -> CaseOut:
    return await _act(
        request,
        case_id,
        who,
        lambda s, c, x: service_case.file_objection(
            s, case=c, reason=body.reason, who=x.who, now=x.now, cal=x.cal
        ),
    )


@router.post(
    "/cases/{case_id}/objection/decision", response_model=CaseOut, summary="司法行政部门 decides (5 days)"
)
async def objection_decision(
    case_id: uuid.UUID, body: ObjectionDecisionIn, request: Request, who: Who
) -> CaseOut:
    return await _act(
        request,
        case_id,
        who,
        lambda s, c, x: service_case.decide_objection(s, case=c, body=body, who=x.who, now=x.now, cal=x.cal),
    )


@router.post(
    "/notifications",
    response_model=CaseOut,
    status_code=201,
    summary="通知辩护 from court/procuratorate/police",
)
async def notify(body: NotificationIn, request: Request, who: Who) -> CaseOut:
    rt = request.app.state.rt
    async with rt.sessionmaker() as session:
        async with session.begin():
            case = await service_notification.receive_notification(
                session, body=body, who=who, now=rt.clock.now(), cal=await load_calendar(session)
            )
        return await _out(session, case)


@router.post(
    "/clock-sweeps",
    summary="Run the statutory-clock sweep now (withdrawals, 督办 events)",
    responses=examples.ok(examples.SWEEP),
)
async def clock_sweep(request: Request, who: Who) -> dict[str, Any]:
    rt = request.app.state.rt
    async with rt.sessionmaker() as session, session.begin():
        r = await sweep(session, now=rt.clock.now())
    return {"withdrawn": r.withdrawn, "breached": [{"case_id": c, "clock": n} for c, n in r.breached]}
