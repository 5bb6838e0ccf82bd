"""Schema step for a service's copy of dispatch's holiday years (libs.common.calendar_store):
every service that keeps the copy creates it with these steps from its own main-line revision,
so the copies cannot drift apart. Aid (0002) and mediation (0003) created the same table before
this helper existed, column for column; intake (0008) creates it here."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from libs.common.calendar_store import TABLE_NAME


def create_calendar_copy() -> None:
    op.create_table(
        TABLE_NAME,
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holidays", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("workdays", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )


def drop_calendar_copy() -> None:
    op.drop_table(TABLE_NAME)
