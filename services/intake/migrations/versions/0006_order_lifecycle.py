"""the order's life reaches dispatch, and access follows the work: event_seq, dispatch_seq,
order_handlers

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 09:00:00

Issue #15. `event_seq` numbers intake's events of each order (the CloudEvents `sequence`),
`dispatch_seq` the newest dispatch event folded into the status, and `order_handlers` records
who dispatch offered or gave each order to. Backfill: nothing — existing orders start at 0 on
both counters (any first event is newer), and handlers are learnt from the next dispatch event
(an order handled before this migration is still visible in its jurisdiction, as before).
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("work_orders", sa.Column("event_seq", sa.Integer(), server_default="0", nullable=False))
    op.add_column(
        "work_orders", sa.Column("dispatch_seq", sa.BigInteger(), server_default="0", nullable=False)
    )
    op.create_table(
        "order_handlers",
        sa.Column("assignment_id", sa.Uuid(), nullable=False),
        sa.Column("work_order_id", sa.Uuid(), nullable=False),
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason_code", sa.String(length=24), nullable=True),
        sa.ForeignKeyConstraint(["work_order_id"], ["work_orders.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("assignment_id"),
    )
    op.create_index("ix_order_handlers_order", "order_handlers", ["work_order_id"])
    op.create_index(
        "ix_order_handlers_staff_open",
        "order_handlers",
        ["staff_id", "work_order_id"],
        postgresql_where=sa.text("until IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_order_handlers_staff_open", table_name="order_handlers")
    op.drop_index("ix_order_handlers_order", table_name="order_handlers")
    op.drop_table("order_handlers")
    op.drop_column("work_orders", "dispatch_seq")
    op.drop_column("work_orders", "event_seq")
