"""Case workers: legal-aid officers and lawyers (application → decision → assignment → closure)
and mediators (parties → consent → sessions → agreement and its printable document)."""

from __future__ import annotations

import html
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.console import api_uploads, cases_view, domain, i18n
from services.console import session as sess
from services.console.service import BackendError, Unavailable
from services.console.web import backends, check_csrf, problem_ctx, render, require, token

router = APIRouter()

# The step forms live in cases_view (which step for which state and role); here their bodies are
# built and posted as JSON to `POST /v1/cases/{id}/{path}` of the case's service. A field is
# (name, kind, options): a dotted name nests (`applicant.name` → {"applicant": {"name": …}}); a
# number in it is a list index (`parties.0.side` → {"parties": [{"side": …}]}); the kinds are
# listed in cases_view. Bodies match the services' schemas (services/aid/schemas.py,
# services/mediation/schemas.py).
Field = cases_view.Field
STEPS: dict[str, list[tuple[str, list[Field]]]] = {
    service: [(st.key, st.fields) for st in steps] for service, steps in cases_view.STEPS_BY_SERVICE.items()
}
STEP_PATHS = {
    st.key: st.endpoint for steps in cases_view.STEPS_BY_SERVICE.values() for st in steps if st.path
}


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
        if kind in ("attachments", "missing"):
            kinds = [v for v in _listed(raw) if v in _opts]
            if kinds:
                _put(body, name, [{"kind": k} for k in kinds])
            continue
        if kind == "party_ids":
            ids = [v.strip() for v in _listed(raw) if v.strip()]
            if ids:
                _put(body, name, ids)
            continue
        if kind == "fixed":
            _put(body, name, _opts[0])
            continue
        if kind == "session":
            continue  # a path parameter (sessions/{session_id}/record), not part of the body
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


def _listed(raw: Any) -> list[str]:
    if isinstance(raw, list):
        return [str(v) for v in raw]
    return [raw] if isinstance(raw, str) and raw else []


@router.get("/cases", response_class=HTMLResponse)
async def case_list(request: Request) -> Response:
    s = require(request, "cases")
    tok = await token(request)
    sections = []
    for service in domain.case_services_for(s.roles):
        # The services themselves narrow a lawyer or mediator to their own cases (object level).
        try:
            # The newest page only: the full set is the supervisor's export, not a screen.
            cases: list[dict] = await anext(backends(request).case_pages(tok, service, page_size=100), [])
            sections.append({"service": service, "cases": cases})
        except (Unavailable, BackendError) as exc:
            sections.append({"service": service, **problem_ctx(exc, s.lang)})
    return render(request, "cases.html", {"sections": sections, **_view(s.lang)})


def _view(lang: str) -> dict[str, Any]:
    """Template helpers bound to the console language (cases_view.show / label_of)."""
    return {
        "v": lambda value, family=None, extra=None: cases_view.show(value, lang, family, extra),
        "code": lambda family, value, extra=None: cases_view.label_of(family, value, lang, extra),
        "clock_state": cases_view.clock_state,
        "fname": lambda f: _field_label(f, lang),
        # A field or an option may read differently in one step (f.{step}.{field}, f.{field}.{code}).
        "flabel": lambda step, name: i18n.t(_first(f"f.{step}.{name}", f"f.{name}"), lang),
        "olabel": lambda name, code, extra=None: cases_view.label_of(
            "f" if f"f.{name}.{code}" not in i18n.M else f"f.{name}", code, lang, extra
        ),
        # The services write some texts as "中文 | English": the half of the console's language.
        "say": lambda text: cases_view.in_language(text, lang),
    }


def _first(*keys: str) -> str:
    return next((k for k in keys if k in i18n.M), keys[-1])


def _field_label(name: str, lang: str) -> str:
    """A field a service's 422 names (`body.matter.cause`, `parties.0.name`) as the form's label."""
    name = name.removeprefix("body.")
    for key in (f"f.{name}", f"f.{name.rsplit('.', 1)[-1]}", f"field.{name}"):
        if key in i18n.M:
            return i18n.t(key, lang)
    return i18n.t("cv.this_field", lang)


async def _best_effort(call: Any, default: Any) -> Any:
    """Something the page can do without (a label source, the order's number): never an error."""
    try:
        return await call
    except (Unavailable, BackendError):
        return default


async def _extras(request: Request, tok: str, service: str, case: dict) -> dict[str, Any]:
    b = backends(request)
    out: dict[str, Any] = {
        "order": None,
        "log": [],
        "rules": {},
        "committee": None,
        "extra": {},
        "matters": {},
    }
    if case.get("work_order_id"):
        out["order"] = await _best_effort(b.order(tok, str(case["work_order_id"])), None)
    if service == "aid":
        out["log"] = await _best_effort(b.case_log(tok, "aid", str(case["id"])), [])
        rules = await _best_effort(b.aid_rules(tok), {})
        out["rules"] = rules
        out["matters"] = rules.get("matters") or {}
        # The service's own Chinese names: the fallback label of a code the console has no key for.
        out["extra"] = {
            **(rules.get("matters") or {}),
            **(rules.get("attachments") or {}),
            **(rules.get("termination_causes") or {}),
            **(rules.get("notification_grounds") or {}),
            **{k: e.get("label", k) for k, e in (rules.get("exemptions") or {}).items()},
        }
        # The case's documents (metadata) and the upload control (services/console/api_uploads.py).
        out["uploads"] = await _best_effort(b.json("aid", "GET", f"/v1/cases/{case['id']}/uploads", tok), [])
    elif case.get("committee_id"):
        rows = await _best_effort(b.committees(tok, str(case.get("county_code") or "")[:6]), [])
        out["committee"] = next((c for c in rows if str(c.get("id")) == str(case["committee_id"])), None)
    return out


@router.get("/cases/{service}/{case_id}", response_class=HTMLResponse)
async def case_detail(request: Request, service: str, case_id: uuid.UUID) -> Response:
    s = require(request, "cases")
    if service not in cases_view.STEPS_BY_SERVICE:
        return Response(status_code=404)
    ctx: dict = {"service": service, "case_id": str(case_id), **_view(s.lang)}
    try:
        tok = await token(request)
        case = await backends(request).case(tok, service, str(case_id))
    except (Unavailable, BackendError) as exc:
        ctx.update(problem_ctx(exc, s.lang))
        return render(request, "case.html", ctx)
    steps = cases_view.offered_steps(service, case, s.roles, s.user.get("staff_id"))
    ctx.update(
        case=case,
        steps=[st for st in steps if not st.more],
        more_steps=[st for st in steps if st.more],
        hint=cases_view.waiting_hint(service, case, steps),
        **await _extras(request, tok, service, case),
    )
    ctx["choice_allowed"] = cases_view.lawyer_choice(case, ctx["rules"]) if service == "aid" else None
    if service == "aid":
        names = ctx["rules"].get("attachments") or {}
        hint = api_uploads.limits_hint(ctx["rules"], s.lang)
        ctx["upload_form"] = api_uploads.form_ctx(case, names, s.roles, hint=hint)
    if cases_view.offers_order_closure(service, case, ctx["order"]):
        ctx["order_summary"] = cases_view.order_summary(service, case, s.lang)
    return render(request, "case.html", ctx)


@router.get("/cases/{service}/{case_id}/people", response_class=HTMLResponse)
async def people(
    request: Request, service: str, case_id: uuid.UUID, people_q: str = "", step: str = ""
) -> Response:
    """htmx: the picker of a step — aid's lawyers or mediation's mediators of the case's county,
    with dispatch's duty state and workload, filtered by what was typed (name or staff code)."""
    s = require(request, "cases")
    if service not in cases_view.STEPS_BY_SERVICE:
        return Response(status_code=404)
    b, tok = backends(request), await token(request)
    q = people_q[:50]  # `people_q`, not `q`: the picker sits inside a step form
    ctx: dict[str, Any] = {"service": service, "q": q, "case_id": str(case_id), "step": step}
    try:
        case = await b.case(tok, service, str(case_id))
        county = str(case.get("county_code") or "")[:6]
        if service == "aid":
            lawyers = await b.aid_lawyers(tok, county)
            staff = await _best_effort(b.county_staff(tok, county, "lawyer"), [])
            ctx["people"] = cases_view.lawyer_rows(
                lawyers, staff, grave=bool(case.get("grave_penalty")), q=q.strip()
            )
        else:
            mediators = await b.mediators(tok, county)
            staff = await _best_effort(b.county_staff(tok, county), [])
            ctx["people"] = cases_view.mediator_rows(mediators, staff, q=q.strip())
    except (Unavailable, BackendError) as exc:
        ctx.update(problem_ctx(exc, s.lang))
    return render(request, "_case_people.html", {**ctx, **_view(s.lang)})


@router.post("/cases/{service}/{case_id}/close-order", response_class=HTMLResponse)
async def close_source_order(request: Request, service: str, case_id: uuid.UUID) -> Response:
    """办结 of the case's work order with the case's result (intake checks the callback first)."""
    s = require(request, "cases")
    form = await check_csrf(request)
    b, tok = backends(request), await token(request)
    try:
        case = await b.case(tok, service, str(case_id))
        if not case.get("work_order_id"):
            return Response(status_code=404)
        await b.close_order(tok, str(case["work_order_id"]), summary=(form.get("summary") or "").strip())
    except (Unavailable, BackendError) as exc:
        return render(request, "_case_result.html", {**problem_ctx(exc, s.lang), **_view(s.lang)})
    s.flash = i18n.t("cv.order_closed", s.lang)
    resp = HTMLResponse(
        f'<div class="ok" role="status" data-testid="ok">{html.escape(s.flash)}</div>',
        headers={"HX-Refresh": "true"},
    )
    sess.save(request, resp, s)
    return resp


@router.post("/cases/{service}/{case_id}/{action}", response_class=HTMLResponse)
async def case_step(request: Request, service: str, case_id: uuid.UUID, action: str) -> Response:
    s = require(request, "cases")
    step = cases_view.find_step(service, action)
    if step is None:
        return Response(status_code=404)
    form = await check_csrf(
        request, multi=tuple(n for n, kind, _ in step.fields if kind in cases_view.MULTI_KINDS)
    )
    body = step_body(step.fields, form)
    path = step.endpoint
    if "{session_id}" in path:
        try:
            path = path.format(session_id=uuid.UUID(str(form.get("session_id") or "")))
        except ValueError:
            return render(
                request, "_case_result.html", {"error": i18n.t("cv.pick_session", s.lang), **_view(s.lang)}
            )
    try:
        b, tok = backends(request), await token(request)
        if step.method == "PATCH":
            await b.case_update(tok, service, str(case_id), body)
        else:
            await b.case_action(tok, service, str(case_id), path, body)
    except (Unavailable, BackendError) as exc:
        return render(request, "_case_result.html", {**problem_ctx(exc, s.lang), **_view(s.lang)})
    # The case moved on: the page is drawn again from its new state (the next step's forms, what
    # was recorded), with a line saying what was saved.
    s.flash = f"{i18n.t('cv.saved', s.lang)}{i18n.t('act.' + action, s.lang)}"
    resp = HTMLResponse(
        f'<div class="ok" role="status" data-testid="ok">{html.escape(s.flash)}</div>',
        headers={"HX-Refresh": "true"},
    )
    sess.save(request, resp, s)  # not render(): it would spend the flash on this fragment
    return resp


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
