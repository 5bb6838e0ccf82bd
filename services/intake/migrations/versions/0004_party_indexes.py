"""work order parties as blind indexes (conflict-of-interest check in dispatch)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 08:02:00

Numbered 0004 because main's 0003 (name prefix index) was written in parallel: after merging,
set down_revision = "0003" for one line (until then `upgrade heads` applies both branches).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "work_orders",
        sa.Column(
            "party_indexes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("work_orders", "party_indexes")
