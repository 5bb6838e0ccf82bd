"""sms: SMS to citizens (issue #19 item 4)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:30:00

The message outbox (sms_messages: one row per message, unique per order, template and the
order's event that called for it; the phone encrypted, its keyed hash for opt-outs and rate
limits) and the numbers that opted out (sms_opt_outs). services/intake/sms/models.py.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sms_messages",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("work_order_id", sa.Uuid(), sa.ForeignKey("work_orders.id"), nullable=False),
        sa.Column("template", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=False),
        sa.Column("phone_bidx", sa.String(64), nullable=False),
        sa.Column("phone_masked", sa.String(20), nullable=False),
        sa.Column("params", postgresql.JSONB(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("provider", sa.String(16)),
        sa.Column("provider_id", sa.String(64)),
        sa.Column("last_error", sa.Text()),
        sa.UniqueConstraint("work_order_id", "template", "event_id", name="uq_sms_messages_event"),
    )
    op.create_index(
        "ix_sms_messages_due",
        "sms_messages",
        ["next_attempt_at"],
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )
    op.create_index("ix_sms_messages_phone", "sms_messages", ["phone_bidx", "claimed_at"])
    op.create_index("ix_sms_messages_order", "sms_messages", ["work_order_id", "created_at"])
    op.create_table(
        "sms_opt_outs",
        sa.Column("phone_bidx", sa.String(64), primary_key=True),
        sa.Column("phone_masked", sa.String(20), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("by", sa.String(100)),
        sa.Column("reason", sa.Text()),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sms_opt_outs")
    op.drop_table("sms_messages")
