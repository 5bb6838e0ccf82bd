"""Screens for the clocks and the police liaison: the police-liaison queue (人民调解法 Art 25: the
risk reports a supervisor acknowledges — which police unit, what was done), the reply extensions
awaiting a supervisor's approval, and the handler's request for one on the order page."""

from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.console.service import BackendError, Unavailable
from services.console.web import backends, check_csrf, problem_ctx, render, require, token

router = APIRouter()


async def _safe(coro, lang: str):  # type: ignore[no-untyped-def]
    try:
        return await coro, None
    except (Unavailable, BackendError) as exc:
        return None, problem_ctx(exc, lang)


@router.get("/liaison", response_class=HTMLResponse)
async def liaison(request: Request) -> Response:
    s = require(request, "liaison")
    tok = await token(request)
    b = backends(request)
    (open_items, open_p), (done, done_p) = await asyncio.gather(
        _safe(b.liaisons(tok, "open"), s.lang), _safe(b.liaisons(tok, "acknowledged"), s.lang)
    )
    return render(
        request,
        "liaison.html",
        {"open_items": open_items, "done": (done or [])[:50], "problem": open_p or done_p},
    )


@router.post("/liaison/{liaison_id}/acknowledge", response_class=HTMLResponse)
async def acknowledge(request: Request, liaison_id: uuid.UUID) -> Response:
    s = require(request, "liaison")
    form = await check_csrf(request)
    try:
        await backends(request).acknowledge_liaison(
            await token(request),
            str(liaison_id),
            police_unit=(form.get("police_unit") or "").strip(),
            action_taken=(form.get("action_taken") or "").strip(),
        )
    except (Unavailable, BackendError) as exc:
        return render(request, "_result.html", problem_ctx(exc, s.lang))
    return render(request, "_result.html", {"ok": True, "message_key": "li.acknowledged"})


@router.get("/extensions", response_class=HTMLResponse)
async def extensions(request: Request) -> Response:
    s = require(request, "extensions")
    items, problem = await _safe(backends(request).reply_extensions(await token(request)), s.lang)
    return render(request, "extensions.html", {"items": items, "problem": problem})


@router.post("/extensions/{extension_id}/{decision}", response_class=HTMLResponse)
async def decide(request: Request, extension_id: uuid.UUID, decision: str) -> Response:
    s = require(request, "extensions")
    if decision not in ("approve", "refuse"):
        return Response(status_code=404)
    form = await check_csrf(request)
    try:
        await backends(request).decide_extension(
            await token(request),
            str(extension_id),
            approve=decision == "approve",
            reason=(form.get("reason") or "").strip(),
        )
    except (Unavailable, BackendError) as exc:
        return render(request, "_result.html", problem_ctx(exc, s.lang))
    return render(request, "_result.html", {"ok": True, "message_key": f"ex.{decision}d"})


@router.post("/orders/{order_id}/reply-extension", response_class=HTMLResponse)
async def request_extension(request: Request, order_id: uuid.UUID) -> Response:
    """The handler asks for the maximum reply period; a supervisor decides on /extensions."""
    s = require(request, "orders")
    form = await check_csrf(request)
    try:
        await backends(request).request_extension(
            await token(request), str(order_id), reason=(form.get("reason") or "").strip()
        )
    except (Unavailable, BackendError) as exc:
        return render(request, "_result.html", problem_ctx(exc, s.lang))
    return render(request, "_result.html", {"ok": True, "message_key": "ex.requested"})
