"""audit log: append without a lock, chain afterwards (libs.common.audit.chain_pending)

Revision ID: 0901
Revises: 0900
The steps are shared by every service: libs.common.audit_migrations.chain_async_upgrade.
"""

from libs.common.audit_migrations import chain_async_downgrade, chain_async_upgrade

revision = "0901"
down_revision = "0900"
branch_labels = None
depends_on = None


def upgrade() -> None:
    chain_async_upgrade()


def downgrade() -> None:
    chain_async_downgrade()
