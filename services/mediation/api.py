"""HTTP routes of the mediation service: cases, reference data, documents, figures."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from libs.common.auth import Principal, principal, region_filter
from libs.common.workflow import run_action
from services.mediation import document, domain, examples, outcome, service, stats
from services.mediation.calendar_store import load_calendar
from services.mediation.models import Committee, Mediator
from services.mediation.schemas import (
    CaseDetail,
    CaseIn,
    CaseOut,
    CommitteeOut,
    MediatorOut,
    PartyAddIn,
    RegistrationUpdateIn,
)
from services.mediation.workflow import availability

router = APIRouter(prefix="/v1", tags=["mediation cases"])
Who = Annotated[Principal, Depends(principal)]


def _rt(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.rt


@router.get("/cases", response_model=list[CaseOut], summary="人民调解 cases (keyset: before=opened_at)")
async def list_cases(
    request: Request,
    who: Who,
    work_order_id: uuid.UUID | None = None,
    status: Literal[tuple(domain.STATUSES)] | None = None,  # type: ignore[valid-type]
    committee_id: uuid.UUID | None = None,
    before: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CaseOut]:
    async with _rt(request).sessionmaker() as session:
        cases = await service.list_cases(
            session,
            work_order_id=work_order_id,
            status=status,
            committee_id=committee_id,
            before=before,
            limit=limit,
            who=who,
        )
    return [CaseOut.model_validate(c) for c in cases]


@router.post("/cases", response_model=CaseDetail, status_code=201, summary="Register a mediation case")
async def register(body: CaseIn, request: Request, who: Who) -> Any:
    rt = _rt(request)
    async with rt.sessionmaker() as session, session.begin():
        case = await service.register(
            session, body=body, who=who, now=rt.clock.now(), cal=await load_calendar(session)
        )
        return await service.detail(session, case)


@router.get(
    "/cases/{case_id}", response_model=CaseDetail, summary="One case with parties, sessions, agreement"
)
async def get_case(case_id: uuid.UUID, request: Request, who: Who) -> Any:
    async with _rt(request).sessionmaker() as session:
        return await service.detail(session, await service.load(session, case_id, who))


@router.patch("/cases/{case_id}", response_model=CaseDetail, summary="Correct dispute type, summary, claims")
async def update_case(case_id: uuid.UUID, body: RegistrationUpdateIn, request: Request, who: Who) -> Any:
    rt = _rt(request)
    changes = body.model_dump(exclude_none=True)
    return await run_action(
        rt.sessionmaker,
        load=lambda session: service.load(session, case_id, who, lock=True),
        apply=lambda session, case: service.update_registration(
            session, case=case, changes=changes, now=rt.clock.now()
        ),
        answer=service.detail,
    )


@router.post("/cases/{case_id}/parties", response_model=CaseDetail, summary="Add parties (before acceptance)")
async def add_parties(case_id: uuid.UUID, body: PartyAddIn, request: Request, who: Who) -> Any:
    rt = _rt(request)
    return await run_action(
        rt.sessionmaker,
        load=lambda session: service.load(session, case_id, who, lock=True),
        apply=lambda session, case: service.add_parties(
            session, case=case, parties=body.parties, now=rt.clock.now()
        ),
        answer=service.detail,
    )


@router.get(
    "/cases/{case_id}/agreement.html",
    response_class=HTMLResponse,
    summary="The 调解协议书, printable (Chinese)",
    responses=examples.ok(examples.AGREEMENT_HTML, "text/html"),
)
async def agreement_html(case_id: uuid.UUID, request: Request, who: Who) -> HTMLResponse:
    async with _rt(request).sessionmaker() as session:
        case = await service.load(session, case_id, who)
        return HTMLResponse(await document.agreement_html(session, case))


@router.get(
    "/statistics",
    summary="Cases by source/type, success rate, duration, per committee and county",
    responses=examples.ok(examples.STATISTICS),
)
async def statistics(
    request: Request,
    who: Who,
    county_code: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> dict[str, Any]:
    async with _rt(request).sessionmaker() as session:
        return await stats.statistics(
            session, who=who, county_code=county_code, date_from=date_from, date_to=date_to
        )


@router.post(
    "/supervision/sweep",
    summary="Raise supervision events for cases past their deadline now",
    responses=examples.ok(examples.SWEEP),
)
async def sweep(request: Request, who: Who) -> dict[str, Any]:
    rt = _rt(request)
    async with rt.sessionmaker() as session, session.begin():
        cases = await outcome.sweep_deadlines(session, now=rt.clock.now())
    return {"breached": [c.number for c in cases if who.covers(c.region_code) or not who.region]}


@router.get("/committees", response_model=list[CommitteeOut], summary="People's mediation committees")
async def committees(
    request: Request,
    who: Who,
    region_code: Annotated[str | None, Query(pattern=r"^\d{6,12}$")] = None,
    kind: Annotated[str | None, Query(json_schema_extra={"enum": sorted(domain.COMMITTEE_KINDS)})] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[CommitteeOut]:
    q = (
        select(Committee)
        .where(region_filter(Committee.region_code, who))
        .order_by(Committee.code)
        .limit(limit)
    )
    if region_code:
        q = q.where(Committee.region_code.startswith(region_code))
    if kind:
        q = q.where(Committee.kind == kind)
    async with _rt(request).sessionmaker() as session:
        return [CommitteeOut.model_validate(c) for c in (await session.scalars(q)).all()]


@router.get("/mediators", response_model=list[MediatorOut], summary="Mediators and their availability")
async def mediators(
    request: Request,
    who: Who,
    county_code: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    on: date | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[MediatorOut]:
    rt = _rt(request)
    day = on or domain.local_date(rt.clock.now())
    q = select(Mediator).where(region_filter(Mediator.region_code, who)).order_by(Mediator.name).limit(limit)
    if county_code:
        q = q.where(Mediator.county_code == county_code)
    async with rt.sessionmaker() as session:
        rows = (await session.scalars(q)).all()
    out = []
    for m in rows:
        reason = domain.unavailable_reason(availability(m), day)
        item = MediatorOut.model_validate(m)
        item.available, item.unavailable_reason = (
            reason is None,
            reason.zh if reason else None,
        )
        out.append(item)
    return out
