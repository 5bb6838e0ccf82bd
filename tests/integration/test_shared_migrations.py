"""The shared branches' migrations (audit 0900/0901, pipeline 0950/0951) give every service's
database the same tables, and the same as the one Table object the code uses for them."""

from __future__ import annotations

import asyncpg

from libs.common.audit import AUDIT
from libs.common.config import SERVICES


async def _shape(url: str, table: str) -> dict[str, list[tuple]]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        columns = await conn.fetch(
            "SELECT column_name, data_type, character_maximum_length, is_nullable, column_default, is_identity "
            "FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position",
            table,
        )
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1 ORDER BY indexname", table
        )
        constraints = await conn.fetch(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = $1::regclass ORDER BY conname",
            table,
        )
    finally:
        await conn.close()
    return {
        "columns": [tuple(r) for r in columns],
        "indexes": [tuple(r) for r in indexes],
        "constraints": [tuple(r) for r in constraints],
    }


async def test_every_service_gets_the_same_audit_log_as_the_code_uses(infra):
    shapes = {s: await _shape(await infra.fresh_database(s, seed=False), "audit_log") for s in SERVICES}
    first = shapes["intake"]
    assert all(shape == first for shape in shapes.values()), {s: v for s, v in shapes.items() if v != first}
    columns = {name: nullable == "YES" for name, _, _, nullable, _, _ in first["columns"]}
    assert columns == {c.name: bool(c.nullable) for c in AUDIT.columns}
    index_names = {name for name, _ in first["indexes"]}
    assert {i.name for i in AUDIT.indexes} <= index_names
    assert {"audit_log_pkey", "audit_log_seq_key", "audit_log_hash_key"} <= index_names
    identity = {name for name, *_, is_identity in first["columns"] if is_identity == "YES"}
    assert identity == {"id"}
