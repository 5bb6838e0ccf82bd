"""orders.intake_seq and orders.event_seq: the order's revisions on both sides

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 09:00:00

Issue #15: dispatch follows every change intake announces. The Kafka key is the county code,
so an order moved to another county sends its later events by another partition; intake numbers
its events of each order (CloudEvents `sequence`) and dispatch keeps the newest it applied
(`intake_seq`), and numbers its own (`event_seq`) for intake's status. Existing orders start at
0 on both: any event is newer.

Main line number 0008 is this issue's (0006–0007 came from parallel work on issue #15).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("intake_seq", sa.BigInteger(), server_default="0", nullable=False))
    op.add_column("orders", sa.Column("event_seq", sa.BigInteger(), server_default="0", nullable=False))


def downgrade() -> None:
    op.drop_column("orders", "event_seq")
    op.drop_column("orders", "intake_seq")
