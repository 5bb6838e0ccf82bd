"""Printable documents the console hands out: the 受理回执 of a request (a walk-in at the counter
takes it home; the hotline can print or read it out), and a legal-aid case's 一次性告知书, 决定书
and 指派通知书 (rendered by the aid service). No product names on paper."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from libs.common import regions
from services.console import domain
from services.console.service import BackendError, Unavailable
from services.console.web import backends, problem_ctx, render, require, token

router = APIRouter()


def receiving_office(order: dict, user: dict) -> tuple[str, str]:
    """(the office named on the receipt, the window) — the clerk's own service point for a walk-in,
    else the county's public legal service centre (the hotline is the city's, named by channel)."""
    county = regions.lookup(order.get("county_code") or "")
    centre = f"{county.name}公共法律服务中心" if county else "公共法律服务中心"
    if order.get("channel") == "counter" and user.get("service_point_name"):
        return user["service_point_name"], user["service_point_name"]
    if order.get("channel") == "hotline":
        return "12348 公共法律服务热线", ""
    return centre, ""


def reply_by(order: dict):  # type: ignore[no-untyped-def]
    """When the citizen will hear back: the open callback's due time, else the order's deadline."""
    due = [t.get("due_at") for t in order.get("tasks") or [] if t.get("status") == "open" and t.get("due_at")]
    return min(due) if due else order.get("due_at")


@router.get("/orders/{order_id}/receipt", response_class=HTMLResponse)
async def receipt(request: Request, order_id: uuid.UUID) -> Response:
    s = require(request, "orders")
    try:
        order = await backends(request).order(await token(request), str(order_id))
    except (Unavailable, BackendError) as exc:
        return render(request, "unavailable.html", problem_ctx(exc, s.lang), 503)
    office, window = receiving_office(order, s.user)
    today = request.app.state.clock.now().astimezone(domain.CHINA_TZ).date()
    return render(
        request,
        "receipt.html",
        {
            "order": order,
            "office": office,
            "window": window,
            "reply_by": reply_by(order),
            "clerk": s.user.get("name") or "",
            "printed_on": f"{today.year}年{today.month}月{today.day}日",
        },
    )


AID_DOCUMENTS = ("materials", "decision", "assignment")


@router.get("/cases/aid/{case_id}/documents/{kind}", response_class=HTMLResponse)
async def aid_document(request: Request, case_id: uuid.UUID, kind: str) -> Response:
    """The aid service's printable document, fetched with the officer's token."""
    s = require(request, "cases")
    if kind not in AID_DOCUMENTS:
        return Response(status_code=404)
    try:
        html = await backends(request).aid_document(await token(request), str(case_id), kind)
    except (Unavailable, BackendError) as exc:
        return render(request, "unavailable.html", problem_ctx(exc, s.lang), 200)
    # From our own aid service; sandboxed anyway, as the 调解协议书 is: no scripts run.
    return HTMLResponse(
        html, headers={"Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'"}
    )
