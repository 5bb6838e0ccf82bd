"""calendar_years: intake's copy of dispatch's holiday years

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 06:40:00

Issue #18 item 4. Callback deadlines (回拨) counted with the library default and so ignored the
holidays and 调休 workdays an admin entered in dispatch; intake now keeps the same copy as aid
and mediation, filled from dispatch.calendar_year_updated (the step is shared:
libs.common.calendar_migrations). Nothing to backfill: dispatch announces a year when it is
entered; years entered before this revision reach intake when an admin saves them again.
"""

from libs.common.calendar_migrations import create_calendar_copy, drop_calendar_copy

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_calendar_copy()


def downgrade() -> None:
    drop_calendar_copy()
