"""reconciliation with dispatch: announced_at, routed_at (acknowledgement), re-announcements

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:00:00

Issue #14: intake knows whether dispatch has acknowledged each order it announced, and
re-announces the ones it has not (services/intake/reconcile.py). Backfill: every announced
order counts as announced when it was created; one already past `received` has been heard
of by dispatch (its status came from a dispatch event) and counts as acknowledged; the rest
are due for a check two minutes (the default) after they were created.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

AWAITING_ACK = "dispatched AND routed_at IS NULL AND status NOT IN ('closed', 'merged')"


def upgrade() -> None:
    for name in ("announced_at", "routed_at", "last_reemit_at", "reconcile_at"):
        op.add_column("work_orders", sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.add_column("work_orders", sa.Column("reemits", sa.Integer(), server_default="0", nullable=False))
    op.execute(
        """
        UPDATE work_orders SET
            announced_at = created_at,
            routed_at = CASE WHEN status NOT IN ('received', 'merged') THEN updated_at END,
            reconcile_at = created_at + interval '120 seconds'
        WHERE dispatched
        """
    )
    op.create_index(
        "ix_work_orders_awaiting_ack",
        "work_orders",
        ["reconcile_at"],
        unique=False,
        postgresql_where=sa.text(AWAITING_ACK),
    )
    op.create_index(
        "ix_work_orders_reemitted",
        "work_orders",
        ["last_reemit_at"],
        unique=False,
        postgresql_where=sa.text("reemits > 0"),
    )


def downgrade() -> None:
    op.drop_index("ix_work_orders_reemitted", table_name="work_orders")
    op.drop_index("ix_work_orders_awaiting_ack", table_name="work_orders")
    for name in ("reconcile_at", "reemits", "last_reemit_at", "routed_at", "announced_at"):
        op.drop_column("work_orders", name)
