"""Counter staff: the live inbox (SSE), accept / reject / return, duty sign-in, order detail."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncGenerator, AsyncIterator

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from services.console import cases_view, domain, order_edit
from services.console.service import BackendError, Unavailable
from services.console.web import (
    LoginRequired,
    backends,
    check_csrf,
    problem_ctx,
    render,
    render_str,
    require,
    streaming,
    token,
    token_expiring,
)

router = APIRouter()
HEARTBEAT_SECONDS = 15.0


async def _inbox_ctx(request: Request, tok: str, staff_id: str | None) -> dict:
    s = require(request, "counter")
    if not staff_id:
        return {"no_staff": True}
    b = backends(request)
    try:
        items = await b.inbox(tok, staff_id)
    except (Unavailable, BackendError) as exc:
        return problem_ctx(exc, s.lang)
    items = items if isinstance(items, list) else items.get("items", [])

    async def order_of(a: dict) -> dict:
        # What the offer itself says (dispatch's copy), should intake not answer.
        fallback = {"number": a.get("order_number"), "service_type": a.get("service_type")}
        for attempt in range(3):
            try:
                return await b.order(tok, a["work_order_id"])
            except BackendError as exc:
                # Intake shows an order to the person offered it once it has heard of the offer
                # (access follows the work): a live offer can be a moment ahead of that.
                if exc.status != 404 or attempt == 2:
                    return fallback
                await asyncio.sleep(0.2)
            except Unavailable:
                return fallback  # the offer still shows; only its order summary is missing
        return fallback

    orders = await asyncio.gather(*(order_of(a) for a in items[:50]))
    return {"items": list(zip(items[:50], orders, strict=True))}


@router.get("/counter", response_class=HTMLResponse)
async def counter_screen(request: Request) -> Response:
    s = require(request, "counter")
    tok, staff_id = await token(request), s.user.get("staff_id")
    ctx, duty = await asyncio.gather(_inbox_ctx(request, tok, staff_id), _duty_ctx(request, tok, staff_id))
    return render(request, "counter.html", {**ctx, **duty})


async def _duty_ctx(request: Request, tok: str, staff_id: str | None, me: dict | None = None) -> dict:
    """签到 or 签退, whichever the officer's state allows (never both), and since when."""
    if not staff_id:
        return {"duty_unknown": True}
    if me is None:
        try:
            me = await backends(request).staff_member(tok, staff_id)
        except (Unavailable, BackendError):
            return {"duty_unknown": True}
    return {
        "signed_in": cases_view.on_duty(me),
        "signed_in_at": me.get("signed_in_at"),
        "signed_out_at": me.get("signed_out_at"),
    }


@router.get("/counter/point-queue", response_class=HTMLResponse)
async def point_queue(request: Request) -> Response:
    """The officer's service point: who is on duty with what load, and every open offer and
    matter there (not only the officer's own)."""
    s = require(request, "counter")
    point = s.user.get("service_point_id")
    if not point:
        return render(request, "_point_queue.html", {"no_point": True})
    try:
        q = await backends(request).point_queue(await token(request), str(point))
    except (Unavailable, BackendError) as exc:
        return render(request, "_point_queue.html", problem_ctx(exc, s.lang))
    return render(request, "_point_queue.html", {"q": q, "me": s.user.get("staff_id")})


@router.get("/counter/inbox", response_class=HTMLResponse)
async def inbox_partial(request: Request) -> Response:
    s = require(request, "counter")
    return render(
        request, "_inbox.html", await _inbox_ctx(request, await token(request), s.user.get("staff_id"))
    )


def _sse(event: str, html: str) -> str:
    return f"event: {event}\n" + "".join(f"data: {line}\n" for line in html.splitlines()) + "\n"


async def _triggers(request: Request, tok: str, staff_id: str) -> AsyncGenerator[str, None]:
    """When to re-read the inbox ("push"/"poll") or merely look at the clock ("tick"): on each
    event of dispatch's own stream if it has one (its keep-alives every 15 s are ticks), else
    on a short poll."""
    client, req = backends(request).inbox_stream_request(tok, staff_id)
    try:
        resp = await client.send(req, stream=True)
    except httpx.HTTPError:
        resp = None
    if resp is not None and resp.status_code == 200:
        try:
            async for line in resp.aiter_lines():
                if line.startswith("data:") or line.startswith("event:"):
                    yield "push"
                elif line.startswith(":"):
                    yield "tick"
        finally:
            await resp.aclose()
        return
    if resp is not None:
        await resp.aclose()
    interval = request.app.state.settings.inbox_poll_seconds
    while True:
        yield "poll"
        await asyncio.sleep(interval)


SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


@router.get("/counter/stream")
async def inbox_stream(request: Request) -> Response:
    """Server-sent events to the browser: the rendered inbox whenever it changes.

    The stream never refreshes the session's tokens: its cookie left with its headers, so a
    refresh inside it would rotate the refresh token where the browser cannot learn it, and
    the officer's next click would present the spent one — identity then revokes the whole
    session as stolen (seen: logged out after ~15 min on the live inbox, action lost). Instead
    the stream ends itself once the access token is due for refresh ("renew"); EventSource
    reconnects after `retry`, and that request refreshes and sets the cookie."""
    s = require(request, "counter")
    staff_id = s.user.get("staff_id")
    try:
        first_token = await token(request)  # refreshed here if due: this response's cookie carries it
    except LoginRequired:

        async def login() -> AsyncIterator[str]:
            yield "event: login\ndata: /login\n\n"

        return StreamingResponse(login(), media_type="text/event-stream", headers=SSE_HEADERS)

    async def events() -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        if not staff_id:
            return
        last: str | None = None
        loop = asyncio.get_running_loop()
        beat = loop.time()
        triggers = _triggers(request, first_token, staff_id)
        try:
            async for why in triggers:
                if await request.is_disconnected():
                    break
                if token_expiring(s):
                    yield "event: renew\ndata: \n\n"
                    break
                if why != "tick":
                    html = render_str(
                        request, "_inbox.html", await _inbox_ctx(request, first_token, staff_id)
                    )
                    if html != last:
                        last = html
                        yield _sse("inbox", html)
                        continue
                if loop.time() - beat > HEARTBEAT_SECONDS:
                    yield ": keep-alive\n\n"
                    beat = loop.time()
        finally:
            with contextlib.suppress(Exception):
                await triggers.aclose()

    return streaming(request, events(), media_type="text/event-stream", headers=SSE_HEADERS)


@router.post("/counter/assignments/{assignment_id}/{action}", response_class=HTMLResponse)
async def respond(request: Request, assignment_id: uuid.UUID, action: str) -> Response:
    s = require(request, "counter")
    form = await check_csrf(request)
    if action not in ("accept", "reject", "return"):
        return Response(status_code=404)
    tok = await token(request)
    try:
        await backends(request).respond(
            tok, str(assignment_id), action, reason=form.get("reason"), note=form.get("note", "")
        )
    except (Unavailable, BackendError) as exc:
        ctx = await _inbox_ctx(request, tok, s.user.get("staff_id"))
        return render(request, "_inbox.html", {**ctx, "action_problem": problem_ctx(exc, s.lang)})
    resp = render(request, "_inbox.html", await _inbox_ctx(request, tok, s.user.get("staff_id")))
    resp.headers["HX-Trigger"] = "inbox-changed"  # the point's queue shows who holds it now
    return resp


@router.post("/counter/duty/{action}", response_class=HTMLResponse)
async def duty(request: Request, action: str) -> Response:
    s = require(request, "counter")
    await check_csrf(request)
    if action not in ("sign-in", "sign-out") or not s.user.get("staff_id"):
        return Response(status_code=404)
    tok, staff_id = await token(request), s.user["staff_id"]
    try:
        me = await backends(request).duty(tok, staff_id, action)
    except (Unavailable, BackendError) as exc:
        duty = await _duty_ctx(request, tok, staff_id)
        return render(request, "_duty.html", {**duty, **problem_ctx(exc, s.lang), "duty_result": True})
    done = {"ok": True, "message_key": "ct.sign_in_done" if action == "sign-in" else "ct.sign_out_done"}
    resp = render(
        request, "_duty.html", {**await _duty_ctx(request, tok, staff_id, me), **done, "duty_result": True}
    )
    resp.headers["HX-Trigger"] = "duty-changed"  # the point's queue shows the officer on duty at once
    return resp


@router.get("/orders/{order_id}", response_class=HTMLResponse)
async def order_detail(request: Request, order_id: uuid.UUID) -> Response:
    s = require(request, "orders")
    tok = await token(request)
    b = backends(request)
    ctx: dict = {"order_id": str(order_id)}

    async def part(name: str, coro) -> None:  # type: ignore[no-untyped-def]
        try:
            ctx[name] = await coro
        except (Unavailable, BackendError) as exc:
            ctx[name + "_problem"] = problem_ctx(exc, s.lang)

    parts = [
        part("order", b.order(tok, str(order_id))),
        part("assignments", b.assignments(tok, str(order_id))),
        part("sms", b.order_sms(tok, str(order_id))),
    ]
    if s.has_role("operator", "supervisor", "admin"):  # dispatch shows routing reasons to these roles only
        parts.append(part("decision", b.decision(tok, str(order_id))))
    await asyncio.gather(*parts)
    if (ctx.get("decision_problem") or {}).get("status") == 404:
        # Not an error: dispatch has no decision for an order answered on the call (never
        # dispatched), nor yet for one just filed. Said so, not shown in red.
        ctx.pop("decision_problem")
        ctx["no_decision"] = "answered" if (ctx.get("order") or {}).get("answer_summary") else "pending"
    ctx["region"] = domain.region_label((ctx.get("order") or {}).get("region_code"))
    if order_edit.can_edit(ctx.get("order"), s.roles):
        ctx["can_edit"], ctx["counties"] = True, domain.region_options(None)
        ctx["can_cancel"] = order_edit.can_cancel(ctx.get("order"), s.roles)
    if domain.can_transfer_county(ctx.get("order"), s.roles):
        ctx["transfer_counties"] = domain.other_counties(ctx.get("order"))
    return render(request, "order.html", ctx)
