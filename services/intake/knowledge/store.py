"""The knowledge base's reads and writes. Never commits: the caller owns the transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, cast, func, literal, literal_column, or_, select
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from libs.common import regions
from libs.common.problems import FieldProblem, Problem
from services.intake import validation as v
from services.intake.knowledge import statutes
from services.intake.knowledge import text as kt
from services.intake.knowledge.models import Article, ArticleUse, ArticleVersion, MissedSearch

FIELDS = (
    "question",
    "answer",
    "statutes",
    "keywords",
    "domain",
    "service_type",
    "region_code",
    "review_date",
    "published",
)
CHANGE_ZH = {"created": "新建", "edited": "修改", "published": "发布", "unpublished": "撤回"}


def search_docs(fields: dict[str, Any]) -> tuple[str, str]:
    """The article's search terms, whole and head. The question weighs most, then the callers'
    words (keywords), then the answer; the laws' names least (保障农民工工资支付条例 is not an
    article about 工资). The head (question and keywords) picks the candidates: see _ranked."""
    q, k = kt.tokens(fields["question"]), kt.tokens(" ".join(fields["keywords"]))
    a = kt.tokens(fields["answer"])
    laws = kt.tokens(" ".join(c["law"] for c in fields["statutes"]))
    return kt.tsvector_of([(q, "A"), (k, "B"), (a, "C"), (laws, "D")]), kt.tsvector_of([(q, "A"), (k, "B")])


def out(a: Article, score: float | None = None) -> dict[str, Any]:
    region = regions.lookup(a.region_code) if a.region_code else None
    row = {
        "id": a.id,
        "version": a.version,
        "question": a.question,
        "answer": a.answer,
        "statutes": a.statutes,
        "citations": [statutes.cite(c["law"], c["article"]) for c in a.statutes],
        "keywords": a.keywords,
        "domain": a.domain,
        "domain_label": v.DOMAINS.get(a.domain, a.domain),
        "service_type": a.service_type,
        "service_type_label": v.SERVICE_TYPES.get(a.service_type, a.service_type),
        "region_code": a.region_code,
        "region_name": region.name if region else None,
        "review_date": a.review_date,
        "author": a.author,
        "published": a.published,
        "updated_at": a.updated_at,
        "updated_by": a.updated_by,
    }
    if score is not None:
        row["score"] = round(score, 4)
    return row


def _content(a: Article) -> dict[str, Any]:
    return {f: getattr(a, f) for f in FIELDS} | {"review_date": a.review_date.isoformat(), "author": a.author}


def _apply(a: Article, fields: dict[str, Any]) -> None:
    for f in FIELDS:
        setattr(a, f, fields[f])
    a.search_doc, a.head_doc = search_docs(fields)


async def _history(session: AsyncSession, a: Article, change: str, by: str, now: datetime) -> None:
    session.add(
        ArticleVersion(
            article_id=a.id,
            version=a.version,
            change=change,
            content=_content(a),
            edited_by=by,
            edited_at=now,
        )
    )
    await session.flush()


async def create(
    session: AsyncSession,
    *,
    fields: dict[str, Any],
    by: str,
    now: datetime,
    article_id: uuid.UUID | None = None,
) -> Article:
    a = Article(
        id=article_id or uuid.uuid4(), version=1, author=by, created_at=now, updated_at=now, updated_by=by
    )
    _apply(a, fields)
    session.add(a)
    await session.flush()
    await _history(session, a, "created", by, now)
    return a


async def get(session: AsyncSession, article_id: uuid.UUID, *, for_update: bool = False) -> Article:
    stmt = select(Article).where(Article.id == article_id)
    a = (await session.execute(stmt.with_for_update() if for_update else stmt)).scalar_one_or_none()
    if a is None:
        raise Problem(404, "未找到该知识库条目", "no such knowledge-base article")
    return a


def _check_version(a: Article, version: int) -> None:
    if a.version != version:
        raise Problem(
            409,
            f"该条目已被他人改为第 {a.version} 版，请刷新后再改",
            f"the article is at version {a.version} now; reload before editing",
            current_version=a.version,
        )


async def update(
    session: AsyncSession,
    *,
    article_id: uuid.UUID,
    fields: dict[str, Any],
    version: int,
    by: str,
    now: datetime,
) -> Article:
    a = await get(session, article_id, for_update=True)
    _check_version(a, version)
    a.version += 1
    a.updated_at, a.updated_by = now, by
    _apply(a, fields)
    await _history(session, a, "edited", by, now)
    return a


async def set_published(
    session: AsyncSession, *, article_id: uuid.UUID, version: int, published: bool, by: str, now: datetime
) -> Article:
    a = await get(session, article_id, for_update=True)
    _check_version(a, version)
    if a.published == published:
        return a  # already so: no new version for nothing
    a.version += 1
    a.published, a.updated_at, a.updated_by = published, now, by
    await _history(session, a, "published" if published else "unpublished", by, now)
    return a


async def versions(session: AsyncSession, article_id: uuid.UUID) -> list[dict[str, Any]]:
    await get(session, article_id)
    rows = await session.execute(
        select(ArticleVersion)
        .where(ArticleVersion.article_id == article_id)
        .order_by(ArticleVersion.version.desc())
    )
    return [
        {
            "version": r.version,
            "change": r.change,
            "change_label": CHANGE_ZH.get(r.change, r.change),
            "content": r.content,
            "edited_by": r.edited_by,
            "edited_at": r.edited_at,
        }
        for r in rows.scalars()
    ]


async def listing(
    session: AsyncSession,
    *,
    domain: str | None,
    service_type: str | None,
    published_only: bool,
    limit: int,
    offset: int,
) -> list[Article]:
    stmt = select(Article)
    if published_only:
        stmt = stmt.where(Article.published.is_(True))
    if domain:
        stmt = stmt.where(Article.domain == domain)
    if service_type:
        stmt = stmt.where(Article.service_type == service_type)
    stmt = stmt.order_by(Article.domain, Article.question, Article.id).limit(limit).offset(offset)
    return list((await session.execute(stmt)).scalars())


# Any term matches; ts_rank (normalisation 32: rank/(rank+1), so scores read 0–1) prefers the
# article matching more terms, and in its question over its answer (weights D C B A: the answer
# counts a tenth of the question, so an answer that repeats a word does not outrank a question).
# A local rule shows only where it holds (its region a prefix of the caller's); general articles
# everywhere. Candidates come from the head (question + callers' words) first: with 10,000
# articles a common word (工资, 离婚) is in the answers of thousands, and ranking them all cost
# p95 50 ms of SQL alone (bench/knowledge_search.py); the whole text only when the head finds
# fewer than asked for.
_WEIGHTS: ColumnElement[Any] = literal_column("'{0.02, 0.1, 0.4, 1.0}'::float4[]")


def _ranked(tsq: Any, region: str, limit: int, *, head: bool) -> Select:
    score = func.ts_rank(_WEIGHTS, Article.search_doc, tsq, 32).label("score")
    cond: list[ColumnElement[bool]] = [Article.published.is_(True)]
    cond.append(Article.head_doc.op("@@")(tsq) if head else Article.search_doc.op("@@")(tsq))
    if not head:
        cond.append(~Article.head_doc.op("@@")(tsq))  # those the head found are in already
    if region:
        cond.append(or_(Article.region_code.is_(None), literal(region).like(Article.region_code + "%")))
    return (
        select(Article, score)
        .options(defer(Article.search_doc), defer(Article.head_doc))
        .where(*cond)
        .order_by(score.desc(), Article.id)
        .limit(limit)
    )


async def search(
    session: AsyncSession, *, query: str, region: str, limit: int
) -> tuple[list[str], list[dict[str, Any]]]:
    terms = kt.query_terms(query)
    if not terms:
        return terms, []
    tsq = cast(kt.tsquery(terms), TSQUERY)
    rows = list((await session.execute(_ranked(tsq, region, limit, head=True))).all())
    if len(rows) < limit:
        rows += (await session.execute(_ranked(tsq, region, limit - len(rows), head=False))).all()
    return terms, [out(a, score) for a, score in rows]


async def record_miss(
    session: AsyncSession, *, query: str, terms: list[str], region: str, by: str, now: datetime
) -> None:
    session.add(
        MissedSearch(query=query[:200], terms=terms, region_code=region, searched_by=by, searched_at=now)
    )
    await session.flush()


async def record_use(
    session: AsyncSession,
    *,
    article_id: uuid.UUID,
    work_order_id: uuid.UUID,
    region_code: str,
    operator: str | None,
    now: datetime,
) -> None:
    """当场解答 with this article. A retracted or unknown article cannot have answered a call."""
    a = (await session.execute(select(Article).where(Article.id == article_id))).scalar_one_or_none()
    if a is None or not a.published:
        raise FieldProblem(
            "hotline.knowledge_article_id",
            "所选知识库条目不存在或已撤回，请重新选择",
            "the chosen knowledge-base article does not exist or is not published",
        )
    session.add(
        ArticleUse(
            article_id=a.id,
            article_version=a.version,
            work_order_id=work_order_id,
            region_code=region_code,
            operator=operator,
            used_at=now,
        )
    )


async def usage(session: AsyncSession, *, since: datetime, region: str, limit: int = 50) -> dict[str, Any]:
    """Which articles answered calls (most used first) and which searches found nothing."""
    in_region = ArticleUse.region_code.startswith(region, autoescape=True)
    uses = (
        await session.execute(
            select(Article.id, Article.question, Article.domain, func.count(ArticleUse.id).label("uses"))
            .join(ArticleUse, ArticleUse.article_id == Article.id)
            .where(ArticleUse.used_at >= since, in_region)
            .group_by(Article.id)
            .order_by(func.count(ArticleUse.id).desc(), Article.question)
            .limit(limit)
        )
    ).all()
    missed = (
        await session.execute(
            select(
                MissedSearch.query,
                func.count().label("times"),
                func.max(MissedSearch.searched_at).label("last_at"),
            )
            .where(
                MissedSearch.searched_at >= since,
                MissedSearch.region_code.startswith(region, autoescape=True),
            )
            .group_by(MissedSearch.query)
            .order_by(func.count().desc(), func.max(MissedSearch.searched_at).desc())
            .limit(limit)
        )
    ).all()
    total_uses = (
        await session.execute(select(func.count(ArticleUse.id)).where(ArticleUse.used_at >= since, in_region))
    ).scalar_one()
    return {
        "since": since,
        "region": region,
        "total_uses": total_uses,
        "articles": [
            {
                "id": r.id,
                "question": r.question,
                "domain": r.domain,
                "domain_label": v.DOMAINS.get(r.domain, r.domain),
                "uses": r.uses,
            }
            for r in uses
        ],
        "missed": [{"query": r.query, "times": r.times, "last_at": r.last_at} for r in missed],
    }
