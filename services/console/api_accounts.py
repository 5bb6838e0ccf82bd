"""Admins: account administration (账号管理) over identity's /v1/accounts, with the admin's own
token — identity's jurisdiction checks are the ones that count. Staff are picked from
dispatch's staff list, never typed as ids; a temporary password is shown once, on the page
that created it, and never stored by the console."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.console import domain, i18n
from services.console.service import BackendError, Unavailable
from services.console.web import backends, check_csrf, problem_ctx, redirect, render, require, token

router = APIRouter()
FILTERS = ("q", "role", "region", "active", "linked")


def _form_ctx(s) -> dict:  # type: ignore[no-untyped-def]
    return {
        "roles": domain.ACCOUNT_ROLES,
        "jurisdictions": domain.jurisdiction_options(s.user.get("region") or ""),
    }


@router.get("/accounts", response_class=HTMLResponse)
async def account_list(request: Request, cursor: str | None = None) -> Response:
    s = require(request, "accounts")
    filters = {k: request.query_params.get(k) for k in FILTERS if request.query_params.get(k)}
    ctx: dict = {"filters": filters, **_form_ctx(s)}
    try:
        page = await backends(request).accounts(await token(request), cursor=cursor, limit=50, **filters)
        ctx["accounts"], ctx["next_cursor"] = page.get("items") or [], page.get("next_cursor")
    except (Unavailable, BackendError) as exc:
        ctx.update(problem_ctx(exc, s.lang))
    ctx["next_query"] = "&".join(f"{k}={v}" for k, v in filters.items())
    return render(request, "accounts.html", ctx)


@router.get("/accounts/new", response_class=HTMLResponse)
async def new_account(request: Request) -> Response:
    s = require(request, "accounts")
    return render(request, "account_new.html", {**_form_ctx(s), "form": {}})


@router.get("/accounts/staff-options", response_class=HTMLResponse)
async def staff_options(request: Request, staff_q: str = "") -> Response:
    """htmx: the staff members matching what was typed, as radio buttons (the link picker).
    `staff_q`, not `q`: the picker sits inside the account forms, whose fields it must not shadow."""
    s = require(request, "accounts")
    q = staff_q
    ctx: dict = {"q": q}
    if q.strip():
        try:
            ctx["staff"] = await backends(request).staff_search(await token(request), q[:50])
        except (Unavailable, BackendError) as exc:
            ctx.update(problem_ctx(exc, s.lang))
    return render(request, "_staff_options.html", ctx)


@router.post("/accounts", response_class=HTMLResponse)
async def create_account(request: Request) -> Response:
    s = require(request, "accounts")
    form = await check_csrf(request, multi=("roles",))
    body = {
        "username": (form.get("username") or "").strip(),
        "name": (form.get("name") or "").strip(),
        "roles": form.get("roles") or [],
        "region": form.get("region") or None,
        "staff_id": form.get("staff_id") or None,
    }
    try:
        created = await backends(request).create_account(await token(request), body)
    except (Unavailable, BackendError) as exc:
        ctx = {**_form_ctx(s), "form": body, **problem_ctx(exc, s.lang)}
        return render(request, "account_new.html", ctx, 422 if isinstance(exc, BackendError) else 503)
    return render(
        request,
        "account.html",
        {**_form_ctx(s), "account": created["account"], "temporary": created, "message_key": "ac.created_ok"},
    )


async def _detail(request: Request, account_id: uuid.UUID, **extra: object) -> Response:
    s = require(request, "accounts")
    ctx: dict = {**_form_ctx(s), **extra}
    try:
        ctx["account"] = await backends(request).account(await token(request), str(account_id))
    except (Unavailable, BackendError) as exc:
        ctx["account_problem"] = problem_ctx(exc, s.lang)
    status = 200 if "problem" not in extra else 422
    return render(request, "account.html", ctx, status)


@router.get("/accounts/{account_id}", response_class=HTMLResponse)
async def account_detail(request: Request, account_id: uuid.UUID) -> Response:
    return await _detail(request, account_id)


@router.post("/accounts/{account_id}/{action}", response_class=HTMLResponse)
async def account_action(request: Request, account_id: uuid.UUID, action: str) -> Response:
    """save | disable | enable | link | unlink (plain forms: redirect back with a message),
    reset (htmx: the temporary password is shown in place, once)."""
    s = require(request, "accounts")
    form = await check_csrf(request, multi=("roles",))
    b, tok, aid = backends(request), await token(request), str(account_id)
    done = {
        "save": "ac.saved",
        "disable": "ac.disabled_ok",
        "enable": "ac.enabled_ok",
        "link": "ac.linked_ok",
        "unlink": "ac.unlinked_ok",
    }
    if action not in (*done, "reset"):
        return Response(status_code=404)
    try:
        if action == "save":
            roles = form.get("roles") or []
            if not roles:
                return await _detail(request, account_id, problem={"error": _t(s, "ac.choose_role")})
            body = {"name": (form.get("name") or "").strip(), "roles": roles, "region": form.get("region")}
            await b.update_account(tok, aid, body)
        elif action == "disable":
            await b.account_action(tok, aid, "disable", {"note": (form.get("note") or "")[:200]})
        elif action == "enable":
            await b.account_action(tok, aid, "enable")
        elif action == "link":
            if not form.get("staff_id"):
                return await _detail(request, account_id, problem={"error": _t(s, "ac.staff_search")})
            await b.link_staff(tok, aid, form["staff_id"])
        elif action == "unlink":
            await b.unlink_staff(tok, aid)
        else:
            reset = await b.account_action(tok, aid, "reset-password")
            # In place, once; the page's status and password line are brought up to date (oob).
            return render(request, "_temporary_password.html", {"temporary": reset, "oob": True})
    except (Unavailable, BackendError) as exc:
        if action == "reset":
            return render(request, "_result.html", problem_ctx(exc, s.lang))
        return await _detail(request, account_id, problem=problem_ctx(exc, s.lang))
    return redirect(request, f"/accounts/{aid}", flash=_t(s, done[action]))


def _t(s, key: str) -> str:  # type: ignore[no-untyped-def]
    return i18n.t(key, s.lang)
