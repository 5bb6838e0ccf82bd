"""delivery pipeline: pipeline_state and dead_letters (libs.common.pipeline_tables) on their own branch

Revision ID: 0950
Revises:
Branch labels: pipeline
Depends on: 0001 (the outbox table, which gets an index for purging published rows)
The steps are shared by every service: libs.common.pipeline_migrations.pipeline_upgrade.
"""

from libs.common.pipeline_migrations import pipeline_downgrade, pipeline_upgrade

revision = "0950"
down_revision = None
branch_labels = ("pipeline",)
depends_on = "0001"


def upgrade() -> None:
    pipeline_upgrade()


def downgrade() -> None:
    pipeline_downgrade()
