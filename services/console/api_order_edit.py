"""Correct an open order (更正事实) or change its classification (调整分类) from its page."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.console import i18n, order_edit
from services.console.service import BackendError, Unavailable
from services.console.web import backends, check_csrf, problem_ctx, render, require, token

router = APIRouter()


@router.post("/orders/{order_id}/cancel", response_class=HTMLResponse)
async def cancel_order(request: Request, order_id: uuid.UUID) -> Response:
    """撤销 an order filed by mistake (with a reason); intake refuses one already in hand."""
    s = require(request, "orders")
    form = await check_csrf(request)
    try:
        await backends(request).cancel_order(
            await token(request), str(order_id), reason=form.get("reason", "")
        )
    except (Unavailable, BackendError) as exc:
        ctx = problem_ctx(exc, s.lang)
        ctx["field_errors"] = [
            (i18n.t("oe.cancel_reason", s.lang), m) for _f, m in ctx.get("field_errors") or []
        ]
        return render(request, "_result.html", ctx)
    resp = render(request, "_result.html", {"ok": True, "message_key": "oe.cancelled"})
    resp.headers["HX-Refresh"] = "true"
    return resp


@router.post("/orders/{order_id}/edit/{part}", response_class=HTMLResponse)
async def edit_order(request: Request, order_id: uuid.UUID, part: str) -> Response:
    s = require(request, "orders")
    if part not in ("facts", "classification"):
        return Response(status_code=404)
    form = await check_csrf(request)
    b, tok = backends(request), await token(request)
    try:
        order = await b.order(tok, str(order_id))
        if not order_edit.can_edit(order, s.roles):
            return render(request, "_result.html", {"error": i18n.t("oe.not_allowed", s.lang)})
        if part == "facts":
            body = order_edit.facts_patch(order, form)
            if not body:
                return render(request, "_result.html", {"error": i18n.t("oe.nothing_changed", s.lang)})
            await b.update_order(tok, str(order_id), body)
        else:
            body = order_edit.classification_change(order, form)
            if not body:
                return render(request, "_result.html", {"error": i18n.t("oe.nothing_changed", s.lang)})
            await b.reclassify(tok, str(order_id), body)
    except (Unavailable, BackendError) as exc:
        ctx = problem_ctx(exc, s.lang)
        ctx["field_errors"] = [
            (i18n.t(order_edit.FIELD_LABELS[f], s.lang) if f in order_edit.FIELD_LABELS else f, m)
            for f, m in ctx.get("field_errors") or []
        ]
        return render(request, "_result.html", ctx)
    resp = render(request, "_result.html", {"ok": True, "message_key": "oe.saved"})
    resp.headers["HX-Refresh"] = "true"  # the page shows the corrected order and the timeline's line
    return resp
