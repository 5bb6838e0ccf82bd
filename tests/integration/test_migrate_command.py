"""`python -m libs.common.migrate <service>`, what each pod's init container runs in Kubernetes
(deploy/k8s): three replicas starting at once on an empty database all succeed, one after the
other under the advisory lock, and leave it at the service's heads; a fourth finds nothing to do."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid

import asyncpg
from alembic.script import ScriptDirectory

from libs.common.embedded import create_database
from libs.common.migrate import ROOT, alembic_config


async def _run(url: str) -> tuple[int, str]:
    env = {**os.environ, "AID_DATABASE_URL": url}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "libs.common.migrate", "aid",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode()


async def test_replicas_migrating_at_once_take_turns_and_reach_the_heads(infra):
    name = f"t_migrate_cli_{uuid.uuid4().hex[:8]}"
    await create_database(infra.server_url, name)
    infra.databases.append(name)
    url = infra.db_url(name)
    results = await asyncio.gather(*(_run(url) for _ in range(3)))
    for code, out in results:
        assert code == 0, out
    heads = set(ScriptDirectory.from_config(alembic_config("aid", url)).get_heads())
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        assert {r[0] for r in await conn.fetch("SELECT version_num FROM alembic_version")} == heads
    finally:
        await conn.close()
    code, out = await _run(url)
    assert code == 0 and "aid: database at" in out, out


async def test_an_unknown_service_is_refused():
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "libs.common.migrate", "console", cwd=ROOT, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    assert proc.returncode == 2 and b"invalid choice: 'console'" in err
