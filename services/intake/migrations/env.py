"""Alembic environment of the intake service (logic shared in libs.common.migrate)."""

from alembic import context

from libs.common.migrate import run_env
from services.intake.models import metadata

run_env(context, metadata)
