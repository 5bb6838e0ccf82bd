"""the legal start of the mediation clock, our own copy of the holiday years, the police liaison

- cases.received_at (+ receipt): the period counts from when the application / referral was
  received (民法典 Art 201), entered with a reason when earlier than the registration;
- calendar_years: dispatch's holiday schedule survives a restart and reaches every replica (it
  lived in one process's memory);
- police_liaisons + webhook_deliveries: 人民调解法 Art 25 risk reports reach a person (and the
  configured police webhook, retried until it succeeds).

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

JSONB = postgresql.JSONB(astext_type=sa.Text())
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:  # Long on purpose: one migration's DDL, read top to bottom; frozen once applied.
    op.add_column("cases", sa.Column("received_at", TZ, nullable=True))
    op.add_column("cases", sa.Column("receipt", JSONB, nullable=True))
    op.execute("UPDATE cases SET received_at = opened_at WHERE received_at IS NULL")
    op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("holidays", JSONB, nullable=False),
        sa.Column("workdays", JSONB, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )
    op.create_table(
        "police_liaisons",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("case_number", sa.String(length=32), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("risk_kind", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reported_by", sa.String(length=64), nullable=True),
        sa.Column("reported_by_name", sa.String(length=50), nullable=True),
        sa.Column("reported_at", TZ, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("acknowledged_by_name", sa.String(length=50), nullable=True),
        sa.Column("acknowledged_at", TZ, nullable=True),
        sa.Column("police_unit", sa.String(length=100), nullable=True),
        sa.Column("action_taken", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_police_liaisons_case_id", "police_liaisons", ["case_id"])
    op.create_index("ix_police_liaisons_region_code", "police_liaisons", ["region_code"])
    op.create_index("ix_police_liaisons_reported", "police_liaisons", ["reported_at", "id"])
    op.create_index(
        "ix_police_liaisons_open",
        "police_liaisons",
        ["county_code", "reported_at"],
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("liaison_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("last_attempt_at", TZ, nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(["liaison_id"], ["police_liaisons.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhook_deliveries_liaison_id", "webhook_deliveries", ["liaison_id"])
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("delivered_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("police_liaisons")
    op.drop_table("calendar_years")
    op.drop_column("cases", "receipt")
    op.drop_column("cases", "received_at")
