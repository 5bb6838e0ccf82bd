"""The knowledge base's tables, in intake's database (migration 0009)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from services.intake.models import IntakeBase


class Article(IntakeBase):
    """The current version of an article; every version, this one included, is in ArticleVersion."""

    __tablename__ = "kb_articles"
    __table_args__ = (
        Index("ix_kb_articles_search", "search_doc", postgresql_using="gin"),
        Index("ix_kb_articles_head", "head_doc", postgresql_using="gin"),
        Index("ix_kb_articles_filters", "published", "domain", "service_type"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    statutes: Mapped[list] = mapped_column(JSONB)  # [{"law": "劳动合同法", "article": 82}]
    keywords: Mapped[list] = mapped_column(JSONB)  # how callers put it, searched with weight B
    domain: Mapped[str] = mapped_column(String(32))
    service_type: Mapped[str] = mapped_column(String(40))
    region_code: Mapped[str | None] = mapped_column(String(12))  # None: the rule holds everywhere
    review_date: Mapped[date] = mapped_column(Date)
    author: Mapped[str] = mapped_column(String(100))
    published: Mapped[bool] = mapped_column(Boolean)
    search_doc: Mapped[str] = mapped_column(TSVECTOR)  # every part, weighted (text.py)
    head_doc: Mapped[str] = mapped_column(TSVECTOR)  # the question and the callers' words only
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(100))


class ArticleVersion(IntakeBase):
    """One row per change (created, edited, published, unpublished): the history is never rewritten."""

    __tablename__ = "kb_article_versions"

    article_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("kb_articles.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    change: Mapped[str] = mapped_column(String(16))
    content: Mapped[dict] = mapped_column(JSONB)  # every field of the article as it then stood
    edited_by: Mapped[str] = mapped_column(String(100))
    edited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ArticleUse(IntakeBase):
    """An order answered on the call (当场解答) with this article: one per order."""

    __tablename__ = "kb_article_uses"
    __table_args__ = (Index("ix_kb_article_uses_article", "article_id", "used_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    article_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("kb_articles.id"))
    article_version: Mapped[int] = mapped_column(Integer)
    work_order_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    region_code: Mapped[str] = mapped_column(String(12))
    operator: Mapped[str | None] = mapped_column(String(100))
    used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class MissedSearch(IntakeBase):
    """A search that found nothing: the questions the knowledge base does not answer yet."""

    __tablename__ = "kb_missed_searches"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    query: Mapped[str] = mapped_column(String(200))
    terms: Mapped[list] = mapped_column(JSONB)
    region_code: Mapped[str] = mapped_column(String(12))
    searched_by: Mapped[str] = mapped_column(String(100))
    searched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
