"""calendar_years: the same table as every service's copy (libs.common.calendar_store)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 06:35:00

Issue #18 item 4. The copy of dispatch's holiday years is one shared definition now
(libs.common.calendar_migrations); this table was created with `year` SERIAL, a sequence no year
is ever drawn from. The default and the sequence go; every row stays.
"""

from libs.common.calendar_migrations import reserial_calendar_copy, unserial_calendar_copy

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    unserial_calendar_copy()


def downgrade() -> None:
    reserial_calendar_copy()
