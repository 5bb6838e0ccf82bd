"""Alembic environment of the identity service (logic shared in libs.common.migrate)."""

from alembic import context

from libs.common.migrate import run_env
from services.identity.models import metadata

run_env(context, metadata)
