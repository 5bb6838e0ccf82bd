"""who acted, parties by identity, the 7×24 rota (issue #15, items 2 and 7)

- assignments.accepted_at: only an accepted assignment counts as having acted on a
  matter (conflict of interest); an offer never accepted does not.
- parties.phone_index: parties are matched by ID number or phone (blind indexes), a name
  alone only warns.
- duty_slots.kind: `weekly` (working days, the calendar decides) or `on_call` (a 7×24
  rota slot: that weekday every week, holidays included).

Backfill of accepted_at, from the strongest evidence to the weakest: the
dispatch.assigned events still in the outbox (they name the assignment); assignments
still accepted or returned (退单 needs an accepted one); completed ones whose person is
the order's recorded handler. A transferred row with none of that cannot be told apart
from one transferred while still an offer: it is counted as accepted, so no real conflict
of interest is lost — an unaccepted one may warn once too often, never the reverse.

Revision ID: 0006
Revises: 0004 (re-parent onto 0005 when that revision lands beside this one)
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None

ASSIGNED = "cn.lawline.dispatch.assigned.v1"


def upgrade() -> None:
    op.add_column("assignments", sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("parties", sa.Column("phone_index", sa.String(length=64), nullable=True))
    op.create_index("ix_parties_phone_index", "parties", ["phone_index"])
    op.add_column(
        "duty_slots", sa.Column("kind", sa.String(length=8), server_default="weekly", nullable=False)
    )
    op.execute(
        f"""
        UPDATE assignments a SET accepted_at = (o.event->'data'->>'accepted_at')::timestamptz
        FROM outbox o
        WHERE o.event->>'type' = '{ASSIGNED}' AND o.event->'data'->>'assignment_id' = a.id::text
        """
    )
    op.execute(
        """
        UPDATE assignments SET accepted_at = coalesce(responded_at, offered_at)
        WHERE accepted_at IS NULL AND status IN ('accepted', 'returned', 'transferred')
        """
    )
    op.execute(
        """
        UPDATE assignments a SET accepted_at = coalesce(o.assigned_at, a.responded_at, a.offered_at)
        FROM orders o
        WHERE a.accepted_at IS NULL AND a.status = 'completed'
          AND o.work_order_id = a.work_order_id AND o.handler_staff_id = a.staff_id
        """
    )
    op.create_index(
        "ix_assignments_accepted",
        "assignments",
        ["work_order_id", "staff_id"],
        postgresql_where=sa.text("accepted_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_assignments_accepted", table_name="assignments")
    op.drop_column("duty_slots", "kind")
    op.drop_index("ix_parties_phone_index", table_name="parties")
    op.drop_column("parties", "phone_index")
    op.drop_column("assignments", "accepted_at")
