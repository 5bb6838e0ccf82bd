"""Run a service's Alembic migrations programmatically (make run, tests) and the shared
env.py logic each service's migrations/env.py delegates to."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, pool
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(service: str, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "services" / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(service: str, url: str, revision: str = "heads") -> None:
    # "heads", plural: every service has shared branches ("audit", 0900_audit_log; "pipeline",
    # 0950_pipeline) besides its main line, so their tables never conflict with its numbering.
    command.upgrade(alembic_config(service, url), revision)


def main_head(service: str, url: str) -> str:
    """The head of a service's main line (not the shared "audit" branch)."""
    script = ScriptDirectory.from_config(alembic_config(service, url))
    heads = [
        h for h in script.get_heads() if not SHARED_BRANCHES & set(script.get_revision(h).branch_labels or ())
    ]
    if len(heads) != 1:
        raise RuntimeError(f"{service}: expected one main-line head, found {heads}")
    return heads[0]


def new_revision(service: str, url: str, *, message: str, rev_id: str) -> None:
    """Autogenerate the next main-line revision (with two branches, alembic needs to be told which).
    `url` must be a scratch database; it is migrated to `heads` first."""
    upgrade(service, url)
    command.revision(
        alembic_config(service, url),
        message=message,
        autogenerate=True,
        rev_id=rev_id,
        head=main_head(service, url),
    )


async def upgrade_async(service: str, url: str) -> None:
    # Alembic's async env runs its own event loop: keep it off ours.
    await asyncio.to_thread(upgrade, service, url)


# Tables created by the shared "audit" branch, not by a service's models: autogenerate must
# neither drop them nor re-create them on the main line.
SHARED_BRANCHES = frozenset({"audit", "pipeline"})
SHARED_BRANCH_TABLES = frozenset({"audit_log", "pipeline_state", "dead_letters"})


def _include_object(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return getattr(table, "name", name) not in SHARED_BRANCH_TABLES


def run_env(context, target_metadata: MetaData) -> None:  # type: ignore[no-untyped-def]
    """Body of every service's migrations/env.py."""
    url = context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(
            url=url, target_metadata=target_metadata, literal_binds=True, include_object=_include_object
        )
        with context.begin_transaction():
            context.run_migrations()
        return

    def do_run(connection) -> None:  # type: ignore[no-untyped-def]
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            compare_type=True,
            include_object=_include_object,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as conn:
            await conn.run_sync(do_run)
        await engine.dispose()

    asyncio.run(main())
