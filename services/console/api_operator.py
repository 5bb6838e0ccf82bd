"""The hotline operator's one screen: lookup, live suggestion, order, callback, rating."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from libs.common.pii import mask_phone
from services.console import domain, i18n
from services.console.service import BackendError, Unavailable
from services.console.web import backends, check_csrf, problem_ctx, render, require, token

router = APIRouter()


@router.get("/operator", response_class=HTMLResponse)
async def operator_screen(request: Request) -> Response:
    s = require(request, "operator")
    ctx = {
        "channel": domain.filing_channel(s.roles),
        "counties": domain.region_options(None),
        "call_id": uuid.uuid4().hex,
        "call_started_at": request.app.state.clock.now().isoformat(),
    }
    return render(request, "operator.html", ctx)


@router.get("/operator/lookup", response_class=HTMLResponse)
async def caller_lookup(request: Request, phone: str = "", service_type: str = "") -> Response:
    s = require(request, "operator")
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) < 7:  # not a number yet: say nothing rather than query on every key press
        return render(request, "_lookup.html", {"waiting": True})
    try:
        orders = await backends(request).caller_orders(await token(request), digits, history=True)
    except (Unavailable, BackendError) as exc:
        return render(request, "_lookup.html", problem_ctx(exc, s.lang))
    open_orders = [o for o in orders if domain.is_open(o)]
    earlier = [o for o in orders if not domain.is_open(o)]
    dupes = domain.duplicate_warning(orders, service_type or None)
    # The type select always has a value, so "same type" alone missed a caller whose open order
    # is of another type (seen): any open order is worth a word, the same type a warning.
    others = [o for o in open_orders if o not in dupes]
    return render(
        request,
        "_lookup.html",
        {
            "orders": open_orders,
            "earlier": earlier,
            "dupes": dupes,
            "others": others,
            "masked": mask_phone(digits),
            # Prefill from the latest order (the list is newest first): name and place, to confirm.
            "known": orders[0] if orders else None,
        },
    )


@router.post("/operator/suggest", response_class=HTMLResponse)
async def suggest(request: Request) -> Response:
    s = require(request, "operator")
    form = await check_csrf(request)
    text = (form.get("description") or "").strip()
    if len(text) < 4:
        return render(request, "_suggest.html", {"waiting": True})
    try:
        sug = await backends(request).classify(await token(request), text)
    except (Unavailable, BackendError) as exc:
        return render(request, "_suggest.html", problem_ctx(exc, s.lang))
    return render(request, "_suggest.html", {"sug": sug})


@router.post("/operator/orders", response_class=HTMLResponse)
async def create_order(request: Request) -> Response:
    s = require(request, "operator")
    form = await check_csrf(request)
    channel = domain.filing_channel(s.roles)
    payload = domain.payload_from_form(
        form,
        channel=channel,
        operator_id=s.user.get("staff_id") or s.user.get("username") or s.user.get("sub") or "",
        now=request.app.state.clock.now(),
        counter=domain.counter_details(s.user),
    )
    # One key per call and form content: a double click or a retry never files two orders.
    idem = f"console-{form.get('call_id') or uuid.uuid4().hex}"
    b, tok = backends(request), await token(request)
    try:
        created, dropped = await b.create_order(tok, payload, idem)
    except (Unavailable, BackendError) as exc:
        ctx = problem_ctx(exc, s.lang)
        inline, summary = domain.place_field_errors(ctx.get("field_errors") or [])
        ctx["inline_errors"] = inline
        ctx["field_errors"] = [
            (i18n.t(label, s.lang) if label else path, msg) for label, path, msg in summary
        ]
        return render(request, "_created.html", ctx, 200)
    return render(
        request,
        "_created.html",
        {
            "order": created,
            "dropped": dropped,
            "answered": bool(form.get("answered_on_call")),
            "new_call_id": uuid.uuid4().hex,
            # 并入此单, or intake's own duplicate check: the call is an urge on that order.
            "merged_into": created.get("duplicate_of"),
        },
    )


@router.post("/orders/{order_id}/callback", response_class=HTMLResponse)
async def record_callback(request: Request, order_id: uuid.UUID) -> Response:
    s = require(request, "orders")
    form = await check_csrf(request)
    try:
        result = await backends(request).record_callback(
            await token(request),
            str(order_id),
            kind=form.get("kind") or "callback",
            outcome=form.get("outcome") or "reached",
            note=form.get("note", ""),
        )
    except (Unavailable, BackendError) as exc:
        return render(request, "_result.html", problem_ctx(exc, s.lang))
    return render(request, "_result.html", {"ok": True, "result": result})


@router.post("/orders/{order_id}/rating", response_class=HTMLResponse)
async def record_rating(request: Request, order_id: uuid.UUID) -> Response:
    s = require(request, "orders")
    form = await check_csrf(request)
    try:
        score = int(form.get("score") or 0)
    except ValueError:
        score = 0
    try:
        result = await backends(request).rate(
            await token(request),
            str(order_id),
            score=score,
            comment=form.get("comment", ""),
        )
    except (Unavailable, BackendError) as exc:
        return render(request, "_result.html", problem_ctx(exc, s.lang))
    return render(request, "_result.html", {"ok": True, "result": result})


@router.post("/orders/{order_id}/close", response_class=HTMLResponse)
async def close_order(request: Request, order_id: uuid.UUID) -> Response:
    s = require(request, "orders")
    form = await check_csrf(request)
    try:
        result = await backends(request).close_order(
            await token(request), str(order_id), summary=form.get("summary", "")
        )
    except (Unavailable, BackendError) as exc:
        return render(request, "_result.html", problem_ctx(exc, s.lang))
    return render(request, "_result.html", {"ok": True, "result": result})


@router.post("/orders/{order_id}/county-transfer", response_class=HTMLResponse)
async def county_transfer(request: Request, order_id: uuid.UUID) -> Response:
    s = require(request, "orders")
    form = await check_csrf(request)
    try:
        await backends(request).county_transfer(
            await token(request),
            str(order_id),
            region_code=form.get("region_code", ""),
            reason=form.get("reason", ""),
        )
    except (Unavailable, BackendError) as exc:
        return render(request, "_result.html", problem_ctx(exc, s.lang))
    return render(request, "_result.html", {"ok": True, "message_key": "od.county_transferred"})
