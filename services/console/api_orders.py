"""The order list every staff role searches: filters, keyset pages (cursor), jurisdiction by token."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.console import domain
from services.console.service import BackendError, Unavailable
from services.console.web import backends, problem_ctx, render, require, token

router = APIRouter()
FILTERS = (
    "status",
    "channel",
    "service_type",
    "domain",
    "region_prefix",
    "special_group",
    "created_from",
    "created_to",
    "q",
    "overdue",
)


@router.get("/orders", response_class=HTMLResponse)
async def order_list(request: Request, cursor: str | None = None) -> Response:
    s = require(request, "orders")
    filters = {k: v for k in FILTERS if (v := request.query_params.get(k))}
    ctx: dict = {"filters": filters, "counties": domain.region_options(None)}
    try:
        ctx["orders"], ctx["next_cursor"] = await backends(request).orders_page(
            await token(request), cursor, **domain.order_list_params(filters)
        )
    except (Unavailable, BackendError) as exc:
        ctx.update(problem_ctx(exc, s.lang))
    ctx["next_query"] = "&".join(f"{k}={v}" for k, v in filters.items())
    return render(request, "orders.html", ctx)
