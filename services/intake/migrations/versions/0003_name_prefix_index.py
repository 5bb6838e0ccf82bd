"""Prefix index for name search: Chinese names are too short for trigrams.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_work_orders_name_prefix",
        "work_orders",
        ["requester_name"],
        postgresql_ops={"requester_name": "text_pattern_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_work_orders_name_prefix", table_name="work_orders")
