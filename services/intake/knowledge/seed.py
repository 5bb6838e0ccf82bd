"""The seed articles (data/articles.yaml) into intake's database, at `make run` and in every fresh
test database: each article under a fixed id (from its question), inserted only when missing, so
an edit a supervisor made survives the next start. Parsed and tokenised once per process."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import yaml
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.knowledge import store
from services.intake.knowledge.models import Article, ArticleVersion
from services.intake.knowledge.schemas import ArticleIn, Citation
from services.intake.knowledge.text import DATA

NAMESPACE = uuid.UUID("6f1c3a52-1234-4a8e-9d47-12348aaa0001")


def article_id(question: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, question)


@lru_cache(maxsize=1)
def seed_articles() -> tuple[str, list[dict[str, Any]]]:
    """(author, rows): every seed article checked by the same schema an edit goes through."""
    doc = yaml.safe_load((DATA / "articles.yaml").read_text(encoding="utf-8"))
    rows = []
    for a in doc["articles"]:
        body = ArticleIn(
            question=a["q"],
            answer=a["a"],
            statutes=[Citation(law=law, article=n) for law, n in a["s"]],
            keywords=a.get("k", []),
            domain=a["d"],
            service_type=a["t"],
            region_code=a.get("r"),
            review_date=doc["review_date"],
            published=True,
        )
        fields = body.model_dump(mode="python")
        search_doc, head_doc = store.search_docs(fields)
        rows.append(
            fields | {"id": article_id(body.question), "search_doc": search_doc, "head_doc": head_doc}
        )
    return doc["author"], rows


async def seed(session: AsyncSession) -> None:
    author, rows = seed_articles()
    now = datetime.now(UTC)
    meta = {"version": 1, "author": author, "created_at": now, "updated_at": now, "updated_by": author}
    await session.execute(
        insert(Article).values([r | meta for r in rows]).on_conflict_do_nothing(index_elements=["id"])
    )
    versions = [
        {
            "article_id": r["id"],
            "version": 1,
            "change": "created",
            "content": {f: r[f] for f in store.FIELDS}
            | {"review_date": r["review_date"].isoformat(), "author": author},
            "edited_by": author,
            "edited_at": now,
        }
        for r in rows
    ]
    await session.execute(insert(ArticleVersion).values(versions).on_conflict_do_nothing())
