"""delivery pipeline: index for the inbox retention purge (libs.common.inbox.purge_forever)

Revision ID: 0951
Revises: 0950
The steps are shared by every service: libs.common.pipeline_migrations.inbox_retention_upgrade.
"""

from libs.common.pipeline_migrations import inbox_retention_downgrade, inbox_retention_upgrade

revision = "0951"
down_revision = "0950"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inbox_retention_upgrade()


def downgrade() -> None:
    inbox_retention_downgrade()
