"""法律知识库 in the console: the operator's suggestions while the description is typed (a debounced
htmx POST, like the classifier's), and the supervisors' page of which articles answered calls and
which questions found none (intake's GET /v1/knowledge/usage)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.console.service import BackendError, Unavailable
from services.console.web import backends, check_csrf, problem_ctx, render, require, token

router = APIRouter()
MIN_CHARS = 4  # fewer characters are a word being typed, not a question
ARTICLES_SHOWN = 200


@router.post("/operator/knowledge", response_class=HTMLResponse)
async def suggest_articles(request: Request) -> Response:
    s = require(request, "operator")
    form = await check_csrf(request)
    text = (form.get("description") or "").strip()
    if len(text) < MIN_CHARS:
        return render(request, "_knowledge.html", {"waiting": True})
    region = form.get("village") or form.get("township") or form.get("county") or ""
    try:
        found = await backends(request).json(
            "intake",
            "GET",
            "/v1/knowledge/search",
            await token(request),
            params={"q": text[:500], "region": region, "limit": 5},
        )
    except (Unavailable, BackendError) as exc:
        return render(request, "_knowledge.html", problem_ctx(exc, s.lang))
    return render(
        request, "_knowledge.html", {"items": found.get("items") or [], "terms": found.get("terms")}
    )


@router.get("/knowledge", response_class=HTMLResponse)
async def knowledge_figures(request: Request, days: int = 30) -> Response:
    s = require(request, "knowledge")
    days = days if 1 <= days <= 366 else 30
    b, tok = backends(request), await token(request)
    try:
        usage = await b.json("intake", "GET", "/v1/knowledge/usage", tok, params={"days": days})
        # Every article, unpublished ones too (the supervisors edit them through intake's API).
        articles = await b.json(
            "intake",
            "GET",
            "/v1/knowledge/articles",
            tok,
            params={"include_unpublished": "true", "limit": ARTICLES_SHOWN},
        )
    except (Unavailable, BackendError) as exc:
        return render(request, "knowledge.html", {"problem": problem_ctx(exc, s.lang), "days": days})
    ctx = {"usage": usage, "days": days, "articles": articles, "shown": ARTICLES_SHOWN}
    return render(request, "knowledge.html", ctx)
