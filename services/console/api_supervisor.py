"""Supervisor dashboard (督办): today's intake, overdue list with escalation, the figures and the
county ranking of any period (counted by intake), and CSV / Excel export without row limits."""

from __future__ import annotations

import asyncio
import csv
import io
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.console import domain, exports, figures, i18n
from services.console.service import BackendError, Unavailable, dumps
from services.console.web import backends, check_csrf, problem_ctx, render, require, streaming, token

router = APIRouter()


def _today(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.clock.now().astimezone(domain.CHINA_TZ).date()


async def _safe(coro, lang: str):  # type: ignore[no-untyped-def]
    try:
        return await coro, None
    except (Unavailable, BackendError) as exc:
        return None, problem_ctx(exc, lang)


def _period(request: Request) -> figures.PeriodChoice:
    q = request.query_params
    return figures.choose_period(q.get("from"), q.get("to"), today=_today(request))


@router.get("/supervisor", response_class=HTMLResponse)
async def dashboard(request: Request) -> Response:
    s = require(request, "supervisor")
    tok = await token(request)
    b = backends(request)
    choice = _period(request)
    period, today = choice.period, _today(request)
    (
        (stats, stats_p),
        (today_stats, today_p),
        (overdue, overdue_p),
        (queue, queue_p),
        (aid, aid_p),
        (med, med_p),
        (recon, _recon_p),
    ) = await asyncio.gather(
        # Counted by intake (GET /v1/stats/orders), for the viewer's jurisdiction only.
        _safe(b.order_stats(tok, period.first, period.last), s.lang),
        _safe(b.order_stats(tok, today, today), s.lang),
        _safe(b.overdue(tok), s.lang),
        _safe(b.queue(tok), s.lang),
        _safe(b.cases(tok, "aid"), s.lang),
        _safe(b.cases(tok, "mediation"), s.lang),
        _safe(b.reconciliation(tok), s.lang),
    )
    settings = request.app.state.settings
    fig = None
    if stats is not None and today_stats is not None:
        fig = figures.dashboard(
            stats, today_stats, period=period, monthly_target_per_county=settings.monthly_target_per_county
        )
    charts = _charts(fig, s.lang) if fig else {}
    return render(
        request,
        "supervisor.html",
        {
            "figures": fig,
            "period": period,
            "period_errors": {k: v[1 if s.lang == "en" else 0] for k, v in choice.errors.items()},
            "period_query": f"from={period.first.isoformat()}&to={period.last.isoformat()}",
            "quick": _quick_periods(today),
            "orders_problem": stats_p or today_p,
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


def _charts(fig: figures.Dashboard, lang: str) -> dict[str, list]:
    """The dashboard's chart series, labelled in the viewer's language."""
    return {
        "channel": [[i18n.label("channel", k, lang), n] for k, n in fig.today_by_channel.items()],
        "type": [[i18n.label("type", k, lang), n] for k, n in fig.today_by_type.items()],
        "ranking": [[r["county"], r["orders"], r["closed"]] for r in fig.ranking],
        "labels": [i18n.t("sv.orders", lang), i18n.t("sv.closed", lang)],
        "days": [[d["day"][5:], d["orders"]] for d in fig.by_day],
    }


def _quick_periods(today):  # type: ignore[no-untyped-def]
    """近 30 天 / 本月 / 上月 as ready-made ranges (the monthly 排名通报 is about last month)."""
    first = today.replace(day=1)
    prev_last = first - timedelta(days=1)
    return [
        ("sv.last_30", f"from={(today - timedelta(days=29)).isoformat()}&to={today.isoformat()}"),
        ("sv.this_month", f"from={first.isoformat()}&to={today.isoformat()}"),
        ("sv.last_month", f"from={prev_last.replace(day=1).isoformat()}&to={prev_last.isoformat()}"),
    ]


@router.get("/supervisor/staff-options", response_class=HTMLResponse)
async def transfer_staff_options(request: Request, staff_q: str = "") -> Response:
    """htmx: people matching a typed name or staff code, to pick whom an order goes to (转办) —
    not a UUID typed by hand."""
    s = require(request, "supervisor")
    ctx: dict = {"q": staff_q, "field": "to_staff_id", "show_load": True}
    if staff_q.strip():
        try:
            ctx["staff"] = await backends(request).staff_search(await token(request), staff_q[:50])
        except (Unavailable, BackendError) as exc:
            ctx.update(problem_ctx(exc, s.lang))
    return render(request, "_staff_options.html", ctx)


@router.post("/supervisor/transfer/{order_id}", response_class=HTMLResponse)
async def transfer(request: Request, order_id: uuid.UUID) -> Response:
    """督办 by reassignment: dispatch escalates overdue orders itself (its clocks); what a supervisor
    does with one is transfer (转办) it to a named person."""
    s = require(request, "supervisor")
    form = await check_csrf(request)
    if not (form.get("to_staff_id") or "").strip():
        return render(request, "_result.html", {"error": i18n.t("sv.pick_staff", s.lang)})
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


def _dataset_pages(
    request: Request, tok: str, dataset: str, period: figures.Period
) -> AsyncIterator[list[dict]]:
    b = backends(request)
    if dataset == "orders":
        days = {"created_from": period.first.isoformat(), "created_to": period.last.isoformat()}
        return b.orders(tok, **domain.order_list_params(days))
    return b.case_pages(tok, "aid" if dataset == "aid_cases" else "mediation")


@router.get("/supervisor/export.{fmt}")
async def export(request: Request, fmt: str, dataset: str = "orders") -> Response:
    """Every row of the period, page by page from the service (keyset cursor): no row limit,
    bounded memory; headers and values in the viewer's language, China time (exports.py)."""
    s = require(request, "supervisor")
    if fmt not in ("csv", "xlsx") or dataset not in exports.DATASETS:
        return Response(status_code=404)
    period = _period(request).period
    pages = _dataset_pages(request, await token(request), dataset, period)
    try:
        first: list[dict] = await anext(pages, [])
    except (Unavailable, BackendError) as exc:
        return render(request, "unavailable.html", problem_ctx(exc, s.lang), 503)
    span = (
        f"{period.first.isoformat()}_{period.last.isoformat()}"
        if dataset == "orders"
        else _today(request).isoformat()
    )
    name = f"lawline-{dataset}-{span}.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":

        async def lines() -> AsyncIterator[bytes]:
            buf = io.StringIO()
            w = csv.writer(buf)
            buf.write("\ufeff")  # Excel opens UTF-8 Chinese correctly only with a BOM
            w.writerow(exports.headers(dataset, s.lang))
            page = first
            while True:
                for item in page:
                    w.writerow(exports.csv_line(dataset, item, s.lang))
                yield buf.getvalue().encode()
                buf.seek(0)
                buf.truncate()
                page = await anext(pages, [])
                if not page:
                    return

        return streaming(request, lines(), media_type="text/csv; charset=utf-8", headers=disposition)
    return streaming(
        request,
        await _xlsx(first, pages, dataset, s.lang),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=disposition,
    )


async def _xlsx(
    first: list[dict], pages: AsyncIterator[list[dict]], dataset: str, lang: str
) -> AsyncIterator[bytes]:
    """openpyxl's write-only mode keeps memory flat; the zip is finished on disk, then streamed.
    Typed cells (dates as dates, scores as numbers) so the sheet sorts and sums; a frozen, bold
    header and widths that fit the Chinese text."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    cols = exports.COLUMNS[dataset]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(i18n.t(f"xp.sheet.{dataset}", lang))
    ws.freeze_panes = "A2"
    for i, col in enumerate(cols, 1):
        ws.column_dimensions[get_column_letter(i)].width = col.width
    bold = Font(bold=True)
    header = []
    for text_ in exports.headers(dataset, lang):
        cell = WriteOnlyCell(ws, value=text_)
        cell.font = bold
        header.append(cell)
    ws.append(header)

    def row_cells(item: dict) -> list:
        out = []
        for col, value in zip(cols, exports.cells(dataset, item, lang), strict=True):
            cell = WriteOnlyCell(ws, value=value)
            if col.kind in exports.EXCEL_FORMATS:
                cell.number_format = exports.EXCEL_FORMATS[col.kind]
            out.append(cell)
        return out

    page: list[dict] | None = first
    while page is not None:
        for item in page:
            ws.append(row_cells(item))
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
