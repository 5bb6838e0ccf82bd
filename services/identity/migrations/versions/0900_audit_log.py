"""audit log (hash-chained, libs.common.audit) on its own branch

Revision ID: 0900
Revises:
Branch labels: audit
A separate Alembic branch so it never collides with the main line's numbering;
`libs.common.migrate.upgrade` runs `alembic upgrade heads`.
The steps are shared by every service: libs.common.audit_migrations.audit_log_upgrade.
"""

from libs.common.audit_migrations import audit_log_downgrade, audit_log_upgrade

revision = "0900"
down_revision = None
branch_labels = ("audit",)
depends_on = None


def upgrade() -> None:
    audit_log_upgrade()


def downgrade() -> None:
    audit_log_downgrade()
