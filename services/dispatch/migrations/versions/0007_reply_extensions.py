"""reply extensions: the hotline's "at most 15 working days with approval", requested by the handler,
approved or refused by a supervisor of the jurisdiction; orders.reply_extended_at

Revision ID: 0007
Revises: 0006 (0005/0006 are other branches' numbers; rechain to the latest main-line head on merge)
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("orders", sa.Column("reply_extended_at", TZ, nullable=True))
    op.create_table(
        "reply_extensions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_by_name", sa.String(length=50), nullable=True),
        sa.Column("requested_at", TZ, nullable=False),
        sa.Column("reply_due_before", TZ, nullable=False),
        sa.Column("reply_due_after", TZ, nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_by_name", sa.String(length=50), nullable=True),
        sa.Column("decided_at", TZ, nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reply_extensions_work_order_id", "reply_extensions", ["work_order_id"])
    op.create_index(
        "uq_reply_extensions_live",
        "reply_extensions",
        ["work_order_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('requested', 'approved')"),
    )
    op.create_index(
        "ix_reply_extensions_pending",
        "reply_extensions",
        ["county_code", "requested_at"],
        postgresql_where=sa.text("status = 'requested'"),
    )


def downgrade() -> None:
    op.drop_table("reply_extensions")
    op.drop_column("orders", "reply_extended_at")
