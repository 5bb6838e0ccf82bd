"""Case workers: legal-aid officers and lawyers (application → decision → assignment → closure)
and mediators (parties → consent → sessions → agreement and its printable document)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.console import domain
from services.console.service import BackendError, Unavailable
from services.console.web import backends, check_csrf, problem_ctx, render, require, token

router = APIRouter()

# Each step: (action path segment, fields). A field is (name, kind, options) — kind: text | textarea |
# number | select | datetime. Posted as JSON to `POST /v1/cases/{id}/{action}` of the case's service.
STEPS: dict[str, list[tuple[str, list[tuple[str, str, tuple[str, ...]]]]]] = {
    "aid": [
        (
            "application",
            [
                ("applicant_name", "text", ()),
                ("matter", "text", ()),
                ("stage", "text", ()),
                ("income", "number", ()),
            ],
        ),
        ("decision", [("result", "select", ("grant", "refuse")), ("reasons", "textarea", ())]),
        ("assign", [("lawyer_staff_id", "text", ())]),
        ("close", [("summary", "textarea", ())]),
    ],
    "mediation": [
        (
            "parties",
            [
                ("party_name", "text", ()),
                ("party_role", "select", ("applicant", "respondent")),
                ("phone", "text", ()),
            ],
        ),
        ("consent", [("party_id", "text", ()), ("consents", "select", ("yes", "no"))]),
        ("sessions", [("scheduled_at", "datetime", ()), ("place", "text", ())]),
        ("agreement", [("form", "select", ("written", "oral")), ("terms", "textarea", ())]),
    ],
}
HIDDEN_FIELDS = {"id"}


@router.get("/cases", response_class=HTMLResponse)
async def case_list(request: Request) -> Response:
    s = require(request, "cases")
    tok = await token(request)
    sections = []
    for service in domain.case_services_for(s.roles):
        # The services themselves narrow a lawyer or mediator to their own cases (object level).
        try:
            cases = await backends(request).cases(tok, service)
            sections.append({"service": service, "cases": cases})
        except (Unavailable, BackendError) as exc:
            sections.append({"service": service, **problem_ctx(exc, s.lang)})
    return render(request, "cases.html", {"sections": sections})


@router.get("/cases/{service}/{case_id}", response_class=HTMLResponse)
async def case_detail(request: Request, service: str, case_id: uuid.UUID) -> Response:
    s = require(request, "cases")
    if service not in STEPS:
        return Response(status_code=404)
    ctx: dict = {"service": service, "case_id": str(case_id), "steps": STEPS[service]}
    try:
        ctx["case"] = await backends(request).case(await token(request), service, str(case_id))
    except (Unavailable, BackendError) as exc:
        ctx.update(problem_ctx(exc, s.lang))
    return render(request, "case.html", ctx)


@router.post("/cases/{service}/{case_id}/{action}", response_class=HTMLResponse)
async def case_step(request: Request, service: str, case_id: uuid.UUID, action: str) -> Response:
    s = require(request, "cases")
    fields = dict(STEPS.get(service, [])).get(action)
    if fields is None:
        return Response(status_code=404)
    form = await check_csrf(request)
    body = {}
    for name, kind, _opts in fields:
        value = (form.get(name) or "").strip()
        if value == "":
            continue
        if kind == "number":
            try:
                body[name] = float(value) if "." in value else int(value)
            except ValueError:
                body[name] = value  # let the service name the field in its error
        elif kind == "select" and set(_opts) == {"yes", "no"}:
            body[name] = value == "yes"
        else:
            body[name] = value
    try:
        result = await backends(request).case_action(
            await token(request), service, str(case_id), action, body
        )
    except (Unavailable, BackendError) as exc:
        return render(request, "_result.html", problem_ctx(exc, s.lang))
    return render(request, "_result.html", {"ok": True, "result": result})


@router.get("/cases/mediation/{case_id}/agreement", response_class=HTMLResponse)
async def agreement(request: Request, case_id: uuid.UUID) -> Response:
    """The printable 调解协议书 from the mediation service, fetched with the mediator's token."""
    s = require(request, "cases")
    try:
        html = await backends(request).agreement_html(await token(request), str(case_id))
    except (Unavailable, BackendError) as exc:
        return render(request, "unavailable.html", problem_ctx(exc, s.lang), 200)
    # The document comes from our own mediation service; sandbox it anyway: no scripts run.
    return HTMLResponse(
        html, headers={"Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'"}
    )
