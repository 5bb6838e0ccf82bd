"""Schema step for a service's copy of dispatch's holiday years (libs.common.calendar_store):
every service that keeps the copy creates it with these steps from its own main-line revision,
so the copies cannot drift apart. Aid (0002) and mediation (0003) created the same table before
this helper existed, column for column but with `year` SERIAL, which their 0004 drops
(unserial_calendar_copy); intake (0008) creates it here."""

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


def unserial_calendar_copy() -> None:
    """Aid's 0002 and mediation's 0003 created `year` as SERIAL (Alembic's default for an integer
    primary key): a year is never drawn from a sequence. Drop the default and its sequence so the
    three copies are the same table; no row changes."""
    op.execute(f"ALTER TABLE {TABLE_NAME} ALTER COLUMN year DROP DEFAULT")
    op.execute(f"DROP SEQUENCE IF EXISTS {TABLE_NAME}_year_seq")


def reserial_calendar_copy() -> None:
    op.execute(f"CREATE SEQUENCE IF NOT EXISTS {TABLE_NAME}_year_seq OWNED BY {TABLE_NAME}.year")
    op.execute(f"ALTER TABLE {TABLE_NAME} ALTER COLUMN year SET DEFAULT nextval('{TABLE_NAME}_year_seq')")
