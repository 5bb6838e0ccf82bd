"""Run a service's Alembic migrations programmatically (make run, tests) and the shared
env.py logic each service's migrations/env.py delegates to.

In Kubernetes each service's pods run `python -m libs.common.migrate <service>` as an init
container before the service starts (deploy/k8s/base/<service>.yaml): the database URL from
`<SERVICE>_DATABASE_URL`, replicas starting together serialised by an advisory lock."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, pool
from sqlalchemy.ext.asyncio import create_async_engine

from libs.common.config import service_database_url

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


# The services with a database of their own (the console has none).
SERVICES = ("intake", "dispatch", "aid", "mediation", "identity")


async def upgrade_locked(service: str, url: str) -> str:
    """`upgrade` under a PostgreSQL advisory lock held on a connection of its own, so the init
    containers of replicas that start together migrate one after the other (the later ones
    find nothing to do) instead of racing on the same DDL. Returns the revision(s) reached."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await conn.execute("SELECT pg_advisory_lock(hashtext($1))", f"lawline-migrate:{service}")
        await upgrade_async(service, url)
        rows = await conn.fetch("SELECT version_num FROM alembic_version ORDER BY 1")
        return ", ".join(r["version_num"] for r in rows)
    finally:
        await conn.close()  # the session's end releases the lock, also after a failed upgrade


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m libs.common.migrate", description="Upgrade a service's database to its heads."
    )
    parser.add_argument("service", choices=SERVICES)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    reached = asyncio.run(upgrade_locked(args.service, service_database_url(args.service)))
    logging.getLogger("lawline.migrate").info("%s: database at %s", args.service, reached)


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


if __name__ == "__main__":
    main()
