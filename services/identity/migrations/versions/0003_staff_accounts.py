"""a login for every staff member: accounts follow dispatch's staff (staff_members, link
columns), temporary passwords that must be changed, disabling, and the access token issued
with each refresh token (revoked when the account is disabled)

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    for name, type_ in (
        ("staff_code", sa.String(length=32)),
        ("staff_role", sa.String(length=24)),
        ("staff_region", sa.String(length=12)),
        ("staff_as_of", TZ),
        ("password_expires_at", TZ),
        ("password_changed_at", TZ),
        ("disabled_at", TZ),
        ("disabled_reason", sa.String(length=20)),
        ("updated_at", TZ),
        ("last_login_at", TZ),
    ):
        op.add_column("accounts", sa.Column(name, type_, nullable=True))
    op.add_column(
        "accounts",
        sa.Column("must_change_password", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.create_index("ix_accounts_staff_id", "accounts", ["staff_id"])
    op.create_index("ix_accounts_region", "accounts", ["region"])
    op.create_index("ix_accounts_roles", "accounts", ["roles"], postgresql_using="gin")
    op.create_table(
        "staff_members",
        sa.Column("staff_id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("role", sa.String(length=24), nullable=False),
        sa.Column("service_point_id", sa.String(length=36), nullable=False),
        sa.Column("service_point_name", sa.String(length=100), nullable=False),
        sa.Column("tier", sa.String(length=12), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=True),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("as_of", TZ, nullable=True),
        sa.PrimaryKeyConstraint("staff_id"),
    )
    op.create_index("ix_staff_members_code", "staff_members", ["code"])
    op.create_index("ix_staff_members_region_code", "staff_members", ["region_code"])
    op.add_column("refresh_tokens", sa.Column("access_jti", sa.String(length=64), nullable=True))
    op.add_column("refresh_tokens", sa.Column("access_expires_at", TZ, nullable=True))


def downgrade() -> None:
    op.drop_column("refresh_tokens", "access_expires_at")
    op.drop_column("refresh_tokens", "access_jti")
    op.drop_index("ix_staff_members_region_code", table_name="staff_members")
    op.drop_index("ix_staff_members_code", table_name="staff_members")
    op.drop_table("staff_members")
    op.drop_index("ix_accounts_roles", table_name="accounts")
    op.drop_index("ix_accounts_region", table_name="accounts")
    op.drop_index("ix_accounts_staff_id", table_name="accounts")
    for name in (
        "must_change_password",
        "last_login_at",
        "updated_at",
        "disabled_reason",
        "disabled_at",
        "password_changed_at",
        "password_expires_at",
        "staff_as_of",
        "staff_role",
        "staff_region",
        "staff_code",
    ):
        op.drop_column("accounts", name)
