"""Supervisor dashboard (督办): today's intake, overdue list with escalation, monthly figures,
the county ranking, and CSV / Excel export without row limits."""

from __future__ import annotations

import asyncio
import csv
import io
import tempfile
import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from libs.common import regions
from services.console import domain, i18n
from services.console.service import BackendError, Unavailable, dumps
from services.console.web import backends, check_csrf, problem_ctx, render, require, streaming, token

router = APIRouter()


def _today(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.clock.now().astimezone(domain.CHINA_TZ).date()


def _month_filters(request: Request) -> dict:
    today = _today(request)
    start, _ = domain.day_bounds(domain.month_start(today))
    _, end = domain.day_bounds(today)
    return {"created_from": start, "created_to": end}


async def _safe(coro, lang: str):  # type: ignore[no-untyped-def]
    try:
        return await coro, None
    except (Unavailable, BackendError) as exc:
        return None, problem_ctx(exc, lang)


DETAIL_CONCURRENCY = 8
DETAIL_CAP = 2000


async def _month_orders(request: Request, tok: str) -> list[dict]:
    """This month's orders; closed ones completed with their closing time and rating.

    Intake's list rows carry neither `closed_at` nor the rating (满意度 and SLA need both), so the
    closed orders are read one by one — a few at a time, and at most DETAIL_CAP per dashboard view.
    """
    b = backends(request)
    out: list[dict] = []
    async for page in b.orders(tok, **_month_filters(request)):
        out.extend(page)
    closed = [o for o in out if o.get("status") in domain.DONE_STATUSES][:DETAIL_CAP]
    gate = asyncio.Semaphore(DETAIL_CONCURRENCY)

    async def complete(o: dict) -> None:
        async with gate:
            try:
                full = await b.order(tok, str(o["id"]))
            except (Unavailable, BackendError):
                return  # the row still counts as closed; only its SLA / rating is unknown
            o.update(
                closed_at=full.get("closed_at"),
                rating=full.get("rating"),
                county_code=full.get("county_code"),
            )

    await asyncio.gather(*(complete(o) for o in closed))
    return out


@router.get("/supervisor", response_class=HTMLResponse)
async def dashboard(request: Request) -> Response:
    s = require(request, "supervisor")
    tok = await token(request)
    b = backends(request)
    (
        (orders, orders_p),
        (overdue, overdue_p),
        (queue, queue_p),
        (aid, aid_p),
        (med, med_p),
        (recon, _recon_p),
    ) = await asyncio.gather(
        _safe(_month_orders(request, tok), s.lang),
        _safe(b.overdue(tok), s.lang),
        _safe(b.queue(tok), s.lang),
        _safe(b.cases(tok, "aid"), s.lang),
        _safe(b.cases(tok, "mediation"), s.lang),
        _safe(b.reconciliation(tok), s.lang),
    )
    settings = request.app.state.settings
    county_count = sum(1 for c in regions.counties() if c.code.startswith(s.user.get("region", "")[:6])) or 1
    figures = None
    if orders is not None:
        figures = domain.compute_figures(
            orders,
            today=_today(request),
            target_per_county=settings.monthly_target_per_county,
            counties=county_count,
        )
    charts = {}
    if figures:
        charts = {
            "channel": [[i18n.label("channel", k, s.lang), n] for k, n in figures.today_by_channel.items()],
            "type": [[i18n.label("type", k, s.lang), n] for k, n in figures.today_by_type.items()],
            "ranking": [[r["county"], r["orders"], r["closed"]] for r in figures.ranking],
            "labels": [i18n.t("sv.orders", s.lang), i18n.t("sv.closed", s.lang)],
        }
    return render(
        request,
        "supervisor.html",
        {
            "figures": figures,
            "orders_problem": orders_p,
            "overdue": overdue,
            "overdue_problem": overdue_p,
            "queue": queue,
            "queue_problem": queue_p,
            "aid_counts": domain.case_counts(aid) if aid is not None else None,
            "aid_total": len(aid) if aid is not None else None,
            "aid_problem": aid_p,
            "med_counts": domain.case_counts(med) if med is not None else None,
            "med_total": len(med) if med is not None else None,
            "med_problem": med_p,
            # Not shown when intake cannot say (an older intake): the panel is a hint, not a figure.
            "reconcile": domain.reconcile_panel(recon) if recon is not None else None,
            "charts_json": dumps(charts),
            "as_of": request.app.state.clock.now().astimezone(domain.CHINA_TZ),
        },
    )


@router.post("/supervisor/transfer/{order_id}", response_class=HTMLResponse)
async def transfer(request: Request, order_id: uuid.UUID) -> Response:
    """督办 by reassignment: dispatch escalates overdue orders itself (its clocks); what a supervisor
    does with one is transfer (转办) it to a named person."""
    s = require(request, "supervisor")
    form = await check_csrf(request)
    try:
        await backends(request).transfer(
            await token(request),
            str(order_id),
            to_staff_id=(form.get("to_staff_id") or "").strip(),
            reason=(form.get("reason") or "").strip() or "督办转办",
        )
    except (Unavailable, BackendError) as exc:
        return render(request, "_result.html", problem_ctx(exc, s.lang))
    return render(request, "_result.html", {"ok": True, "message_key": "sv.transferred"})


def _dataset_pages(request: Request, tok: str, dataset: str) -> AsyncIterator[list[dict]]:
    b = backends(request)
    if dataset == "orders":
        return b.orders(tok, **_month_filters(request))
    return b.case_pages(tok, "aid" if dataset == "aid_cases" else "mediation")


@router.get("/supervisor/export.{fmt}")
async def export(request: Request, fmt: str, dataset: str = "orders") -> Response:
    """Every row, page by page from the service (keyset cursor): no row limit, bounded memory."""
    s = require(request, "supervisor")
    if fmt not in ("csv", "xlsx") or dataset not in domain.EXPORT_COLUMNS:
        return Response(status_code=404)
    pages = _dataset_pages(request, await token(request), dataset)
    try:
        first = await anext(pages, [])
    except (Unavailable, BackendError) as exc:
        return render(request, "unavailable.html", problem_ctx(exc, s.lang), 503)
    stamp = _today(request).isoformat()
    name = f"lawline-{dataset}-{stamp}.{fmt}"
    cols = domain.EXPORT_COLUMNS[dataset]
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":

        async def lines() -> AsyncIterator[bytes]:
            buf = io.StringIO()
            w = csv.writer(buf)
            buf.write("\ufeff")  # Excel opens UTF-8 Chinese correctly only with a BOM
            w.writerow(cols)
            page = first
            while True:
                for item in page:
                    w.writerow(domain.export_row(dataset, item))
                yield buf.getvalue().encode()
                buf.seek(0)
                buf.truncate()
                page = await anext(pages, None)
                if page is None:
                    return

        return streaming(request, lines(), media_type="text/csv; charset=utf-8", headers=disposition)
    return streaming(
        request,
        await _xlsx(first, pages, dataset, cols),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=disposition,
    )


async def _xlsx(
    first: list[dict], pages: AsyncIterator[list[dict]], dataset: str, cols
) -> AsyncIterator[bytes]:  # type: ignore[no-untyped-def]
    """openpyxl's write-only mode keeps memory flat; the zip is finished on disk, then streamed."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(dataset)
    ws.append(list(cols))
    page: list[dict] | None = first
    while page is not None:
        for item in page:
            ws.append(domain.export_row(dataset, item))
        page = await anext(pages, None)
    tmp = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    await asyncio.to_thread(wb.save, tmp)
    tmp.seek(0)

    async def chunks() -> AsyncIterator[bytes]:
        try:
            while chunk := await asyncio.to_thread(tmp.read, 256 * 1024):
                yield chunk
        finally:
            tmp.close()

    return chunks()
