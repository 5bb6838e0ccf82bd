"""knowledge_base: 法律知识库 (issue #19 item 1)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:30:00

Articles (the current version, with its search terms as two tsvectors under GIN indexes: the
whole article, and its question with the callers' words — the candidates, see knowledge/store.py), their
every version, which article answered which order on the call, and the searches that found
nothing. Search terms are jieba tokens written by the service (services/intake/knowledge/text.py),
so no extension is needed. The seed articles are loaded by `make run`'s seed step, not here.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("statutes", JSONB(), nullable=False),
        sa.Column("keywords", JSONB(), nullable=False),
        sa.Column("domain", sa.String(32), nullable=False),
        sa.Column("service_type", sa.String(40), nullable=False),
        sa.Column("region_code", sa.String(12)),
        sa.Column("review_date", sa.Date(), nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("search_doc", TSVECTOR(), nullable=False),
        sa.Column("head_doc", TSVECTOR(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
    )
    op.create_index("ix_kb_articles_search", "kb_articles", ["search_doc"], postgresql_using="gin")
    op.create_index("ix_kb_articles_head", "kb_articles", ["head_doc"], postgresql_using="gin")
    op.create_index("ix_kb_articles_filters", "kb_articles", ["published", "domain", "service_type"])
    op.create_table(
        "kb_article_versions",
        sa.Column("article_id", sa.Uuid(), sa.ForeignKey("kb_articles.id"), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("change", sa.String(16), nullable=False),
        sa.Column("content", JSONB(), nullable=False),
        sa.Column("edited_by", sa.String(100), nullable=False),
        sa.Column("edited_at", TZ, nullable=False),
    )
    op.create_table(
        "kb_article_uses",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("article_id", sa.Uuid(), sa.ForeignKey("kb_articles.id"), nullable=False),
        sa.Column("article_version", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("region_code", sa.String(12), nullable=False),
        sa.Column("operator", sa.String(100)),
        sa.Column("used_at", TZ, nullable=False),
    )
    op.create_index("ix_kb_article_uses_article", "kb_article_uses", ["article_id", "used_at"])
    op.create_index("ix_kb_article_uses_used_at", "kb_article_uses", ["used_at"])
    op.create_table(
        "kb_missed_searches",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("query", sa.String(200), nullable=False),
        sa.Column("terms", JSONB(), nullable=False),
        sa.Column("region_code", sa.String(12), nullable=False),
        sa.Column("searched_by", sa.String(100), nullable=False),
        sa.Column("searched_at", TZ, nullable=False),
    )
    op.create_index("ix_kb_missed_searches_searched_at", "kb_missed_searches", ["searched_at"])


def downgrade() -> None:
    for table in ("kb_missed_searches", "kb_article_uses", "kb_article_versions", "kb_articles"):
        op.drop_table(table)
