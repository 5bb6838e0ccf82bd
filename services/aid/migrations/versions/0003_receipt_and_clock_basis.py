"""the legal start of the clocks: when an application / notice was received, and each clock's period

cases.received_at (+ receipt: reason, source, who entered it, corrections) — 法律援助法 Art 43
counts from receipt, Art 36 from the notice; case_clocks.days and counts_from, so a corrected
receipt or a newly entered holiday year can recompute an open clock.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("received_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("cases", sa.Column("receipt", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column("case_clocks", sa.Column("days", sa.Integer(), nullable=True))
    op.add_column("case_clocks", sa.Column("counts_from", sa.String(length=12), nullable=True))
    # Existing cases were received when they were opened (that is how their clocks were computed).
    op.execute("UPDATE cases SET received_at = opened_at WHERE received_at IS NULL")
    op.execute(
        "UPDATE case_clocks SET days = CASE name WHEN 'decision' THEN 7 WHEN 'assignment' THEN 3 "
        "WHEN 'objection' THEN 5 ELSE NULL END"
    )
    # A supplement period is local practice (rules.yaml supplement_days): left NULL, read from the rules.
    op.execute(
        "UPDATE case_clocks k SET counts_from = 'receipt' FROM cases c WHERE c.id = k.case_id "
        "AND k.started_on = c.received_on AND (k.name = 'decision' "
        "OR (k.name = 'assignment' AND c.kind = 'notification'))"
    )


def downgrade() -> None:
    op.drop_column("case_clocks", "counts_from")
    op.drop_column("case_clocks", "days")
    op.drop_column("cases", "receipt")
    op.drop_column("cases", "received_at")
