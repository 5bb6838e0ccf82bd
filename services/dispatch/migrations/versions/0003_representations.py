"""representations: lawyers/mediators named on aid and mediation cases (conflict of interest)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "representations",
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("work_order_id", "staff_id"),
    )


def downgrade() -> None:
    op.drop_table("representations")
