"""`GET /v1/audit/verify` and `GET /v1/audit/entries` on every service (the audit administrator only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from libs.common.audit.chain import chain_now, verify
from libs.common.audit.store import AUDIT
from libs.common.auth import allow

# 三员分立 (等保 2.0 level 3, services/identity/duties.py): only the audit administrator reads
# and verifies the trail — not the administrators whose actions it records.
AUDIT_POLICY = {
    "GET /v1/audit/verify": allow("audit_admin"),
    "GET /v1/audit/entries": allow("audit_admin"),
}

_VERIFY_EXAMPLE = {"ok": True, "entries": 1824, "head_hash": "9f2c…e1", "problems": []}
_ENTRY_EXAMPLE = {
    "seq": 1824,
    "at": "2026-11-24T09:30:00+00:00",
    "actor": "op_140430",
    "action": "cn.lawline.workorder.created.v1",
    "subject": "6f1c…",
    "ip": "10.0.3.7",
    "correlation_id": "5b0e…",
    "prev_hash": "a1…",
    "hash": "9f2c…e1",
}


def audit_router() -> APIRouter:
    router = APIRouter(prefix="/v1/audit", tags=["audit"])

    @router.get(
        "/verify",
        summary="Check this service's audit chain (edited, deleted or reordered entries)",
        responses={200: {"content": {"application/json": {"example": _VERIFY_EXAMPLE}}}},
    )
    async def verify_endpoint(request: Request) -> dict[str, Any]:
        # The endpoint owns the transaction: the entries verify links first are kept.
        async with request.app.state.rt.sessionmaker() as session, session.begin():
            return (await verify(session)).as_dict()

    @router.get(
        "/entries",
        summary="Latest audit entries, newest first",
        responses={200: {"content": {"application/json": {"example": [_ENTRY_EXAMPLE]}}}},
    )
    async def entries(
        request: Request,
        subject: str | None = Query(None, max_length=200),
        before_seq: int | None = Query(
            None, ge=1, le=2**63 - 1, description="keyset pagination: entries older than this"
        ),
        limit: int = Query(50, ge=1, le=500),
    ) -> list[dict[str, Any]]:
        await chain_now(request.app.state.rt.sessionmaker)
        q = select(AUDIT).order_by(AUDIT.c.seq.desc().nulls_last(), AUDIT.c.id.desc()).limit(limit)
        if subject:
            q = q.where(AUDIT.c.subject == subject)
        if before_seq:
            q = q.where(AUDIT.c.seq < before_seq)
        async with request.app.state.rt.sessionmaker() as session:
            rows = (await session.execute(q)).mappings().all()
        return [{k: v for k, v in r.items() if k != "id"} | {"at": r["at"].isoformat()} for r in rows]

    return router
