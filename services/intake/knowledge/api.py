"""法律知识库 endpoints: search for everyone at the front desk; edits by supervisors and admins
(access.py: KNOWLEDGE_POLICY); the supervisors' figures of use and of questions with no answer."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from libs.common.auth import Principal, principal
from libs.common.openapi_examples import ok
from libs.common.problems import FieldProblem
from services.intake import queries
from services.intake.knowledge import schemas as ks
from services.intake.knowledge import store

router = APIRouter(prefix="/v1/knowledge", tags=["knowledge"])
Who = Annotated[Principal, Depends(principal)]
EDITORS = ("supervisor", "admin")
MIN_MISS_CHARS = 4  # a search shorter than this is the operator still typing, not a question


def _by(who: Principal) -> str:
    return who.name or who.sub


def _sm(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.rt.sessionmaker


def _fields(body: ks.ArticleIn) -> dict[str, Any]:
    d = body.model_dump(mode="python", exclude={"version"})
    d["statutes"] = [{"law": c["law"], "article": c["article"]} for c in d["statutes"]]
    return d


@router.get("/search", response_model=ks.SearchOut, summary="检索知识库（分词 + 同义词，按相关度排序）")
async def search(
    request: Request,
    who: Who,
    q: Annotated[str, Query(min_length=1, max_length=500, description="来电人的说法或诉求描述")],
    region: Annotated[
        str, Query(max_length=12, pattern=r"^(\d{6}|\d{9}|\d{12})?$", description="工单所在区划")
    ] = "",
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> dict[str, Any]:
    rt = request.app.state.rt
    async with _sm(request)() as session, session.begin():
        terms, hits = await store.search(session, query=q, region=region, limit=limit)
        if not hits and len(q.strip()) >= MIN_MISS_CHARS:
            await store.record_miss(
                session,
                query=q.strip(),
                terms=terms,
                region=region or who.region,
                by=_by(who),
                now=rt.clock.now(),
            )
    return {"query": q, "terms": terms, "items": hits}


@router.get("/articles", response_model=list[ks.ArticleOut], summary="知识库条目列表")
async def list_articles(
    request: Request,
    who: Who,
    domain: Annotated[str | None, Query(max_length=32)] = None,
    service_type: Annotated[str | None, Query(max_length=40)] = None,
    include_unpublished: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[dict[str, Any]]:
    if include_unpublished and not who.has_role(*EDITORS):
        raise FieldProblem(
            "include_unpublished",
            "只有督导和管理员能看到未发布的条目",
            "only supervisors and admins see unpublished articles",
            status=403,
        )
    async with _sm(request)() as session:
        rows = await store.listing(
            session,
            domain=domain,
            service_type=service_type,
            published_only=not include_unpublished,
            limit=limit,
            offset=offset,
        )
    return [store.out(a) for a in rows]


@router.post("/articles", response_model=ks.ArticleOut, status_code=201, summary="新建条目（督导、管理员）")
async def create_article(request: Request, who: Who, body: ks.ArticleIn) -> dict[str, Any]:
    async with _sm(request)() as session, session.begin():
        a = await store.create(
            session, fields=_fields(body), by=_by(who), now=request.app.state.rt.clock.now()
        )
        return store.out(a)


@router.get("/articles/{article_id}", response_model=ks.ArticleOut, summary="一个条目（当前版本）")
async def get_article(request: Request, who: Who, article_id: uuid.UUID) -> dict[str, Any]:
    async with _sm(request)() as session:
        a = await store.get(session, article_id)
    if not a.published and not who.has_role(*EDITORS):
        raise FieldProblem("article_id", "该条目尚未发布", "this article is not published", status=404)
    return store.out(a)


@router.put("/articles/{article_id}", response_model=ks.ArticleOut, summary="修改条目：每次修改都是新版本")
async def update_article(
    request: Request, who: Who, article_id: uuid.UUID, body: ks.ArticleUpdate
) -> dict[str, Any]:
    async with _sm(request)() as session, session.begin():
        a = await store.update(
            session,
            article_id=article_id,
            fields=_fields(body),
            version=body.version,
            by=_by(who),
            now=request.app.state.rt.clock.now(),
        )
        return store.out(a)


async def _publish(request: Request, who: Principal, article_id: uuid.UUID, version: int, on: bool) -> dict:
    async with _sm(request)() as session, session.begin():
        a = await store.set_published(
            session,
            article_id=article_id,
            version=version,
            published=on,
            by=_by(who),
            now=request.app.state.rt.clock.now(),
        )
        return store.out(a)


@router.post("/articles/{article_id}/publish", response_model=ks.ArticleOut, summary="发布条目")
async def publish(request: Request, who: Who, article_id: uuid.UUID, body: ks.PublishIn) -> dict[str, Any]:
    return await _publish(request, who, article_id, body.version, True)


@router.post("/articles/{article_id}/unpublish", response_model=ks.ArticleOut, summary="撤回条目")
async def unpublish(request: Request, who: Who, article_id: uuid.UUID, body: ks.PublishIn) -> dict[str, Any]:
    return await _publish(request, who, article_id, body.version, False)


@router.get(
    "/articles/{article_id}/versions",
    response_model=list[ks.VersionOut],
    summary="条目的全部版本（新的在前）",
)
async def article_versions(request: Request, who: Who, article_id: uuid.UUID) -> list[dict[str, Any]]:
    async with _sm(request)() as session:
        return await store.versions(session, article_id)


@router.get(
    "/usage",
    summary="使用情况：哪些条目答复了来电，哪些问题没有找到答案",
    responses=ok(ks.USAGE),
)
async def usage(
    request: Request,
    who: Who,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
    region: Annotated[str | None, Query(max_length=12, pattern=r"^\d{2,12}$")] = None,
) -> dict[str, Any]:
    scope = queries.effective_region(who, region)
    if scope is False:
        raise FieldProblem(
            "region", "该区划不在您的辖区内", "this region is outside your jurisdiction", status=403
        )
    since = request.app.state.rt.clock.now() - timedelta(days=days)
    async with _sm(request)() as session:
        return await store.usage(session, since=since, region=scope or "")
