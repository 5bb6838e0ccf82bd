"""HTTP routes for the steps of a case. Each runs in one transaction: lock the case, guard the
transition (the one 409 of libs.common.workflow, listing `allowed_actions`), change, enqueue
the event."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, principal
from libs.common.calendar import WorkCalendar
from libs.common.workflow import run_action
from services.mediation import deadlines, outcome, service, workflow
from services.mediation.calendar_store import load_calendar
from services.mediation.models import Case
from services.mediation.schemas import (
    AgreementIn,
    CaseDetail,
    ConfirmationApplicationIn,
    ConsentIn,
    ExtensionIn,
    FailIn,
    FollowUpIn,
    MediatorIn,
    OralAgreementIn,
    ReceiptIn,
    RecusalIn,
    RiskIn,
    SessionIn,
    SessionRecordIn,
    SignIn,
)

router = APIRouter(prefix="/v1/cases/{case_id}", tags=["mediation workflow"])
Who = Annotated[Principal, Depends(principal)]
Step = Callable[[AsyncSession, Case, Any], Awaitable[Any]]


@dataclass
class Ctx:
    now: datetime
    cal: WorkCalendar
    rt: Any


async def _run(
    request: Request, case_id: uuid.UUID, who: Principal, fn: Step, after: Callable[[Any], None] | None = None
) -> dict[str, Any]:
    """One step in one transaction (libs.common.workflow.run_action); `after` runs once it is
    committed (e.g. wake the webhook loop)."""
    rt = request.app.state.rt

    async def apply(session: AsyncSession, case: Case) -> None:
        await fn(session, case, Ctx(rt.clock.now(), await load_calendar(session), rt))

    return await run_action(
        rt.sessionmaker,
        load=lambda session: service.load(session, case_id, who, lock=True),
        apply=apply,
        answer=service.detail,
        after=(lambda: after(rt)) if after is not None else None,
    )


def _webhook(x: Ctx) -> str | None:
    return x.rt.ext.settings.police_webhook_url


def _wake_webhook(rt: Any) -> None:
    """A risk report is urgent: post it now rather than at the loop's next round."""
    rt.ext.webhook_wake.set()


@router.post(
    "/receipt",
    response_model=CaseDetail,
    summary="Correct when the application / referral was received (reason required; deadline recomputed)",
)
async def receipt(case_id: uuid.UUID, body: ReceiptIn, request: Request, who: Who) -> Any:
    return await _run(
        request,
        case_id,
        who,
        lambda s, c, x: deadlines.correct_receipt(s, case=c, body=body, who=who, now=x.now, cal=x.cal),
    )


@router.post(
    "/consents", response_model=CaseDetail, summary="Record a party's consent or refusal (Art 17, 23)"
)
async def consent(case_id: uuid.UUID, body: ConsentIn, request: Request, who: Who) -> Any:
    return await _run(
        request, case_id, who, lambda s, c, x: workflow.record_consent(s, case=c, body=body, now=x.now)
    )


@router.post("/mediator", response_model=CaseDetail, summary="Assign or choose the mediator (Art 19)")
async def mediator(case_id: uuid.UUID, body: MediatorIn, request: Request, who: Who) -> Any:
    return await _run(
        request,
        case_id,
        who,
        lambda s, c, x: workflow.assign_mediator(s, case=c, body=body, who=who, now=x.now),
    )


@router.post("/recusals", response_model=CaseDetail, summary="Record a mediator's conflict of interest")
async def recusal(case_id: uuid.UUID, body: RecusalIn, request: Request, who: Who) -> Any:
    return await _run(request, case_id, who, lambda s, c, x: workflow.recuse(s, case=c, body=body, now=x.now))


@router.post("/sessions", response_model=CaseDetail, status_code=201, summary="Schedule a session")
async def schedule(case_id: uuid.UUID, body: SessionIn, request: Request, who: Who) -> Any:
    return await _run(
        request, case_id, who, lambda s, c, x: workflow.schedule_session(s, case=c, body=body, now=x.now)
    )


@router.post("/sessions/{session_id}/record", response_model=CaseDetail, summary="Attendance and notes")
async def record(
    case_id: uuid.UUID, session_id: uuid.UUID, body: SessionRecordIn, request: Request, who: Who
) -> Any:
    return await _run(
        request,
        case_id,
        who,
        lambda s, c, x: workflow.record_session(
            s, case=c, session_id=session_id, body=body, who=who, now=x.now, webhook_url=_webhook(x)
        ),
        after=_wake_webhook if body.risk else None,
    )


@router.post(
    "/risk", response_model=CaseDetail, summary="Flag a risk of violence/crime: urgent police report (Art 25)"
)
async def risk(case_id: uuid.UUID, body: RiskIn, request: Request, who: Who) -> Any:
    return await _run(
        request,
        case_id,
        who,
        lambda s, c, x: workflow.report_risk(
            s, case=c, body=body, who=who, now=x.now, webhook_url=_webhook(x)
        ),
        after=_wake_webhook,
    )


@router.post(
    "/agreement", response_model=CaseDetail, status_code=201, summary="Draft the written agreement (Art 29)"
)
async def draft(case_id: uuid.UUID, body: AgreementIn, request: Request, who: Who) -> Any:
    return await _run(
        request, case_id, who, lambda s, c, x: outcome.draft_agreement(s, case=c, body=body, now=x.now)
    )


@router.post(
    "/agreement/signatures", response_model=CaseDetail, summary="Party signature, mediator, seal (Art 29)"
)
async def sign(case_id: uuid.UUID, body: SignIn, request: Request, who: Who) -> Any:
    return await _run(
        request,
        case_id,
        who,
        lambda s, c, x: outcome.sign(s, case=c, body=body, who=who, now=x.now, cal=x.cal),
    )


@router.post(
    "/oral-agreement",
    response_model=CaseDetail,
    status_code=201,
    summary="Record an oral agreement (Art 28, 30)",
)
async def oral(case_id: uuid.UUID, body: OralAgreementIn, request: Request, who: Who) -> Any:
    return await _run(
        request,
        case_id,
        who,
        lambda s, c, x: outcome.oral_agreement(s, case=c, body=body, now=x.now, cal=x.cal),
    )


@router.post("/failure", response_model=CaseDetail, summary="Mediation failed: other routes told (Art 26)")
async def failure(case_id: uuid.UUID, body: FailIn, request: Request, who: Who) -> Any:
    return await _run(request, case_id, who, lambda s, c, x: outcome.fail(s, case=c, body=body, now=x.now))


@router.post(
    "/extensions", response_model=CaseDetail, summary="Extend the deadline with every party's consent"
)
async def extension(case_id: uuid.UUID, body: ExtensionIn, request: Request, who: Who) -> Any:
    return await _run(
        request,
        case_id,
        who,
        lambda s, c, x: outcome.extend(s, case=c, body=body, now=x.now, cal=x.cal),
    )


@router.post(
    "/judicial-confirmation",
    response_model=CaseDetail,
    summary="Parties jointly applied for 司法确认 (Art 33)",
)
async def judicial_confirmation(
    case_id: uuid.UUID, body: ConfirmationApplicationIn, request: Request, who: Who
) -> Any:
    return await _run(
        request,
        case_id,
        who,
        lambda s, c, x: outcome.record_confirmation_application(s, case=c, body=body, now=x.now),
    )


@router.post(
    "/follow-ups",
    response_model=CaseDetail,
    status_code=201,
    summary="Performance follow-up (Art 31) or return visit",
)
async def follow_up(case_id: uuid.UUID, body: FollowUpIn, request: Request, who: Who) -> Any:
    return await _run(
        request, case_id, who, lambda s, c, x: outcome.follow_up(s, case=c, body=body, who=who, now=x.now)
    )
