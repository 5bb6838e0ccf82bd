"""Case workers: legal-aid officers and lawyers (application → decision → assignment → closure)
and mediators (parties → consent → sessions → agreement and its printable document)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.console import domain
from services.console.service import BackendError, Unavailable
from services.console.web import backends, check_csrf, problem_ctx, render, require, token

router = APIRouter()

# Each step: (console action, fields), posted as JSON to `POST /v1/cases/{id}/{path}` of the case's
# service, where path = STEP_PATHS.get(action, action). A field is (name, kind, options):
# - a dotted name nests (`applicant.name` → {"applicant": {"name": …}}); a number in it is a list
#   index (`parties.0.side` → {"parties": [{"side": …}]});
# - kind: text | textarea | number | select | bool (select yes/no → true/false) | datetime (China
#   time) | date | lines (one list item per line) | party (a select of the case's parties → its id)
#   | attachments (checkboxes of the materials handed in → [{"kind": code}]).
# Bodies match the services' schemas (services/aid/schemas.py, services/mediation/schemas.py).
Field = tuple[str, str, tuple[str, ...]]
STEPS: dict[str, list[tuple[str, list[Field]]]] = {
    "aid": [
        (
            "application",  # 法律援助法 Art 41-42: matter, requested form and the means (or an exemption)
            [
                ("applicant.name", "text", ()),
                ("applicant.phone", "text", ()),
                (
                    "matter.category",
                    "select",
                    ("labour_pay", "work_injury", "traffic_injury", "support_maintenance", "medical_injury"),
                ),
                ("matter.cause", "text", ()),
                ("matter.stage", "text", ()),
                (
                    "requested_form",
                    "select",
                    (
                        "civil_litigation_agency",
                        "arbitration_agency",
                        "non_litigation_agency",
                        "document_drafting",
                        "consultation",
                    ),
                ),
                ("means.household_size", "number", ()),
                ("means.monthly_income", "number", ()),
                ("means.verification", "select", ("honesty_commitment", "data_sharing")),
                # Art 43 一次性告知: what is not ticked here is listed back to the applicant in one go.
                (
                    "attachments",
                    "attachments",
                    ("identity", "matter_materials", "hardship_statement", "honesty_commitment"),
                ),
                ("accept_with_missing", "bool", ("no", "yes")),
                # 法律援助法 Art 43 counts from the receipt: a paper form received earlier says when, and why.
                ("received_at", "datetime", ()),
                ("receipt_reason", "text", ()),
            ],
        ),
        ("receipt", [("received_at", "datetime", ()), ("reason", "textarea", ())]),  # correction, audited
        ("decision", [("decision", "select", ("grant", "refuse")), ("reasons", "textarea", ())]),  # Art 43
        ("assign", [("lawyer_id", "text", ())]),  # empty = rotation; the applicant's choice where allowed
        ("lawyer-accept", [("firm_consent_by", "text", ())]),
        ("progress", [("note", "textarea", ())]),
        (
            "close",
            [("documents", "lines", ()), ("report", "textarea", ()), ("outcome", "text", ())],
        ),  # Art 50
        (
            "return-visit",
            [
                ("satisfaction", "select", ("satisfied", "basically_satisfied", "unsatisfied")),
                ("note", "text", ()),
            ],
        ),
    ],
    "mediation": [
        (
            "parties",
            [
                ("parties.0.side", "select", ("applicant", "respondent")),
                ("parties.0.name", "text", ()),
                ("parties.0.phone", "text", ()),
            ],
        ),
        (
            "consents",  # 人民调解法 Art 17, 23: every party agrees; one refusal ends the case
            [
                ("party_id", "party", ()),
                ("decision", "select", ("given", "refused")),
                ("method", "select", ("written", "oral", "signed_form")),
            ],
        ),
        ("mediator", [("staff_id", "text", ()), ("chosen_by", "select", ("committee", "parties"))]),  # Art 19
        ("sessions", [("scheduled_at", "datetime", ()), ("location", "text", ())]),
        (
            "agreement",  # Art 29: the contents of a written agreement
            [
                ("facts", "textarea", ()),
                ("disputed_points", "textarea", ()),
                ("responsibilities", "textarea", ()),
                ("terms", "textarea", ()),
                ("performance_manner", "text", ()),
                ("performance_deadline", "date", ()),
            ],
        ),
        (
            "signatures",
            [("signer", "select", ("party", "mediator", "committee_seal")), ("party_id", "party", ())],
        ),
        ("failure", [("reason", "textarea", ())]),
        (
            "receipt",
            [("received_at", "datetime", ()), ("reason", "textarea", ())],
        ),  # the period counts from it
    ],
}
STEP_PATHS = {"signatures": "agreement/signatures"}


def _put(body: dict, dotted: str, value: Any) -> None:
    """Set body[a][b]… for `a.b…`; a numeric part indexes a list (created as needed)."""
    parts = dotted.split(".")
    node: Any = body
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        nxt: Any = value if last else ([] if parts[i + 1].isdigit() else {})
        if isinstance(node, list):
            idx = int(part)
            while len(node) <= idx:
                node.append(None)
            if node[idx] is None or last:
                node[idx] = nxt
            node = node[idx]
        else:
            if part not in node or last:
                node[part] = nxt
            node = node[part]


def step_body(fields: list[Field], form: dict[str, Any]) -> dict:
    """The JSON body of a step from the posted form; empty fields are left out (service defaults)."""
    body: dict = {}
    for name, kind, _opts in fields:
        raw = form.get(name)
        if kind == "attachments":
            kinds = [v for v in (raw or []) if v in _opts]
            if kinds:
                _put(body, name, [{"kind": k} for k in kinds])
            continue
        value = (raw if isinstance(raw, str) else "").strip()
        if value == "":
            continue
        out: Any = value
        if kind == "number":
            try:
                out = float(value) if "." in value else int(value)
            except ValueError:
                out = value  # let the service name the field in its error
        elif kind == "bool":
            out = value == "yes"
        elif kind == "lines":
            out = [line.strip() for line in value.splitlines() if line.strip()]
        elif kind == "datetime" and len(value) == 16:  # <input type=datetime-local>: China time
            out = value + ":00+08:00"
        _put(body, name, out)
    return body


HIDDEN_FIELDS = {"id"}


@router.get("/cases", response_class=HTMLResponse)
async def case_list(request: Request) -> Response:
    s = require(request, "cases")
    tok = await token(request)
    sections = []
    for service in domain.case_services_for(s.roles):
        # The services themselves narrow a lawyer or mediator to their own cases (object level).
        try:
            # The newest page only: the full set is the supervisor's export, not a screen.
            cases = await anext(backends(request).case_pages(tok, service, page_size=100), [])
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
    form = await check_csrf(request, multi=tuple(n for n, kind, _ in fields if kind == "attachments"))
    body = step_body(fields, form)
    try:
        result = await backends(request).case_action(
            await token(request), service, str(case_id), STEP_PATHS.get(action, action), body
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
