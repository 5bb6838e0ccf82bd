"""Dead letters: records a consumer could not handle, kept in the consuming service's own
database (the broker's dead-letter topic is only a copy: the embedded broker forgets it at
restart, a real one after its retention), listed and sent back once the cause is fixed.

Replay puts the original CloudEvent — same id, same key — back on its original topic through
the service's own outbox (so it survives a broker outage and is audited like any other state
change). Every consumer of that topic de-duplicates by event id: the one that failed handles
it now, the others see a duplicate. Replaying twice is harmless for the same reason, and a
replay that fails again comes back as the same dead letter with `failures` counted up.

    python -m libs.common.deadletters list [SERVICE|all] [--status open|replayed|discarded|all]
    python -m libs.common.deadletters show SERVICE ID
    python -m libs.common.deadletters replay SERVICE (ID … | --all)
    python -m libs.common.deadletters discard SERVICE ID … --note "why it is not needed"

The same through HTTP, for admins: `GET /v1/dead-letters`, `POST /v1/dead-letters/replay`,
`POST /v1/dead-letters/{id}/discard` on every service.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson
from aiokafka import ConsumerRecord
from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal, allow, principal
from libs.common.events.envelope import Envelope
from libs.common.pipeline_tables import DEAD_LETTERS
from libs.common.problems import Problem

STATUSES = ("open", "replayed", "discarded")


def _header_text(value: bytes | None) -> str:
    if value is None:
        return ""
    try:
        return value.decode()
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(value).decode()


async def store(
    session: AsyncSession, *, consumer: str, record: ConsumerRecord, event: Envelope | None, error: str
) -> None:
    """Insert, or count one more failure on the row of the same event (open again)."""
    values = {
        "consumer": consumer,
        "event_id": event.id if event else None,
        "event_type": event.type if event else None,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "key": record.key.decode(errors="replace") if record.key else None,
        "headers": [[k, _header_text(v)] for k, v in (record.headers or ())],
        "value": record.value or b"",
        "error": error[:4000],
    }
    stmt = insert(DEAD_LETTERS).values(**values)
    if event is not None:
        stmt = stmt.on_conflict_do_update(
            index_elements=["event_id"],
            index_where=text("event_id IS NOT NULL"),
            set_={
                "failures": DEAD_LETTERS.c.failures + 1,
                "error": stmt.excluded.error,
                "last_failed_at": func.now(),
                "status": "open",
                "resolved_at": None,
                "resolved_by": None,
                "topic": stmt.excluded.topic,
                "partition": stmt.excluded.partition,
                "offset": stmt.excluded.offset,
            },
        )
    await session.execute(stmt)


def _row(r: Any, *, full: bool = False) -> dict[str, Any]:
    out = {
        "id": r.id,
        "consumer": r.consumer,
        "event_id": r.event_id,
        "event_type": r.event_type,
        "topic": r.topic,
        "partition": r.partition,
        "offset": r.offset,
        "key": r.key,
        "error": r.error,
        "failures": r.failures,
        "status": r.status,
        "first_failed_at": r.first_failed_at.isoformat(),
        "last_failed_at": r.last_failed_at.isoformat(),
        "replays": r.replays,
        "resolved_at": r.resolved_at.isoformat() if r.resolved_at else None,
        "resolved_by": r.resolved_by,
        "note": r.note,
    }
    if full:
        out["headers"] = r.headers
        try:
            out["value"] = orjson.loads(r.value)  # payloads are masked before they are published
        except orjson.JSONDecodeError:
            out["value_base64"] = base64.b64encode(r.value).decode()
    return out


async def list_letters(
    session: AsyncSession, *, status: str | None = "open", before_id: int | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    q = select(DEAD_LETTERS).order_by(DEAD_LETTERS.c.id.desc()).limit(limit)
    if status:
        q = q.where(DEAD_LETTERS.c.status == status)
    if before_id:
        q = q.where(DEAD_LETTERS.c.id < before_id)
    return [_row(r) for r in (await session.execute(q)).all()]


async def counts(session: AsyncSession) -> dict[str, int]:
    rows = (
        await session.execute(select(DEAD_LETTERS.c.status, func.count()).group_by(DEAD_LETTERS.c.status))
    ).all()
    return {s: 0 for s in STATUSES} | {status: n for status, n in rows}


async def get_letter(session: AsyncSession, letter_id: int) -> dict[str, Any]:
    r = (await session.execute(select(DEAD_LETTERS).where(DEAD_LETTERS.c.id == letter_id))).first()
    if r is None:
        raise Problem(404, "未找到该死信", "dead letter not found")
    return _row(r, full=True)


async def replay(
    session: AsyncSession, *, service: str, outbox: Any, ids: list[int] | None, by: str
) -> list[dict[str, Any]]:
    """Send the open dead letters `ids` (None: all open ones) back to their topics, through
    the outbox of the caller's transaction. Unparseable records cannot be replayed: they are
    reported and stay open (discard them once understood)."""
    q = (
        select(DEAD_LETTERS)
        .where(DEAD_LETTERS.c.status == "open")
        .order_by(DEAD_LETTERS.c.id)
        .with_for_update()
    )
    if ids is not None:
        q = q.where(DEAD_LETTERS.c.id.in_(ids))
    results = []
    for r in (await session.execute(q)).all():
        if r.event_id is None:
            results.append({"id": r.id, "replayed": False, "reason": "not a CloudEvent: discard it instead"})
            continue
        headers = [(k, v.encode()) for k, v in r.headers if not v.startswith("base64:")]
        event = Envelope.from_kafka(headers, r.value)
        # The outbox's own key must be unique; the event keeps its id, so consumers de-duplicate it.
        outbox_id = "replay:" + hashlib.sha256(f"{service}:{r.id}:{r.replays + 1}".encode()).hexdigest()[:48]
        await session.execute(
            outbox.insert().values(event_id=outbox_id, topic=r.topic, key=r.key, event=event.to_json())
        )
        await session.execute(
            update(DEAD_LETTERS)
            .where(DEAD_LETTERS.c.id == r.id)
            .values(status="replayed", replays=r.replays + 1, resolved_at=func.now(), resolved_by=by)
        )
        await audit.record(
            session,
            service=service,
            action="deadletter.replayed",
            subject=r.event_id,
            detail={"dead_letter_id": r.id, "topic": r.topic, "event_type": r.event_type},
        )
        results.append({"id": r.id, "replayed": True, "event_id": r.event_id, "topic": r.topic})
    if results:
        await session.execute(text(f"SELECT pg_notify('outbox_{service}', '')"))
    return results


async def discard(session: AsyncSession, *, service: str, ids: list[int], by: str, note: str) -> int:
    """Close open dead letters for good: their events are also marked as seen in this service's
    inbox (every service's is named `inbox`), so the same event delivered again — as after a
    broker reset, when every partition is read from its start and relays republish — is a
    duplicate and not handled after all."""
    result = await session.execute(
        update(DEAD_LETTERS)
        .where(DEAD_LETTERS.c.id.in_(ids), DEAD_LETTERS.c.status == "open")
        .values(status="discarded", resolved_at=func.now(), resolved_by=by, note=note)
        .returning(DEAD_LETTERS.c.id)
    )
    done = [row[0] for row in result.all()]
    if done:
        await session.execute(
            text(
                "INSERT INTO inbox (event_id, event_type) SELECT event_id, event_type FROM dead_letters "
                "WHERE id = ANY(:ids) AND event_id IS NOT NULL ON CONFLICT (event_id) DO NOTHING"
            ),
            {"ids": done},
        )
    for letter_id in done:
        await audit.record(
            session,
            service=service,
            action="deadletter.discarded",
            subject=str(letter_id),
            detail={"note": note},
        )
    return len(done)


# ---- HTTP (admins) -------------------------------------------------------------------------
DEADLETTER_POLICY = {
    "GET /v1/dead-letters": allow("admin"),
    "GET /v1/dead-letters/{letter_id}": allow("admin"),
    "POST /v1/dead-letters/replay": allow("admin"),
    "POST /v1/dead-letters/{letter_id}/discard": allow("admin"),
}


class ReplayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"ids": [7]}})

    ids: list[int] | None = Field(
        None, max_length=1000, description="dead letters to replay; omit to replay every open one"
    )


class DiscardRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"note": "测试数据，无需重放"}})

    note: str = Field(
        ..., min_length=2, max_length=1000, description="why it is not needed (kept in the audit log)"
    )


_LETTER_EXAMPLE = {
    "id": 7,
    "consumer": "dispatch",
    "event_id": "0b9f6a52-3c1e-4d7a-8f2b-6e5d4c3b2a19",
    "event_type": "cn.lawline.workorder.created.v1",
    "topic": "lawline.workorder.v1",
    "partition": 3,
    "offset": 1841,
    "key": "140430",
    "error": "KeyError: 'county_code'",
    "failures": 3,
    "status": "open",
    "first_failed_at": "2026-12-02T01:14:05+00:00",
    "last_failed_at": "2026-12-02T01:14:05+00:00",
    "replays": 0,
    "resolved_at": None,
    "resolved_by": None,
    "note": None,
}


def _example(body: Any) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {"application/json": {"example": body}}}}


def deadletter_router(service: str, outbox: Any) -> APIRouter:
    router = APIRouter(prefix="/v1/dead-letters", tags=["dead letters"])

    @router.get(
        "",
        summary="Dead letters of this service's consumer, newest first, with counts by status",
        responses=_example(
            {"counts": {"open": 1, "replayed": 4, "discarded": 0}, "items": [_LETTER_EXAMPLE]}
        ),
    )
    async def list_endpoint(
        request: Request,
        status: str = Query("open", pattern="^(open|replayed|discarded|all)$"),
        before_id: int | None = Query(None, ge=1, le=2**62),
        limit: int = Query(100, ge=1, le=500),
    ) -> dict[str, Any]:
        async with request.app.state.rt.sessionmaker() as session:
            items = await list_letters(
                session, status=None if status == "all" else status, before_id=before_id, limit=limit
            )
            return {"counts": await counts(session), "items": items}

    @router.get(
        "/{letter_id}",
        summary="One dead letter, with the original record",
        responses=_example(
            _LETTER_EXAMPLE | {"headers": [["ce_type", "cn.lawline.workorder.created.v1"]], "value": {}}
        ),
    )
    async def show_endpoint(request: Request, letter_id: int = Path(ge=1, le=2**62)) -> dict[str, Any]:
        async with request.app.state.rt.sessionmaker() as session:
            return await get_letter(session, letter_id)

    @router.post(
        "/replay",
        summary="Send open dead letters back to their topics (idempotent)",
        responses=_example(
            {
                "results": [
                    {
                        "id": 7,
                        "replayed": True,
                        "event_id": _LETTER_EXAMPLE["event_id"],
                        "topic": "lawline.workorder.v1",
                    }
                ],
                "replayed": 1,
            }
        ),
    )
    async def replay_endpoint(
        request: Request, body: ReplayRequest, who: Principal = Depends(principal)
    ) -> dict[str, Any]:
        async with request.app.state.rt.sessionmaker() as session, session.begin():
            results = await replay(session, service=service, outbox=outbox, ids=body.ids, by=who.sub)
        return {"results": results, "replayed": sum(1 for r in results if r["replayed"])}

    @router.post(
        "/{letter_id}/discard",
        summary="Close an open dead letter without replaying it",
        responses=_example({"discarded": 1}),
    )
    async def discard_endpoint(
        request: Request,
        body: DiscardRequest,
        letter_id: int = Path(ge=1, le=2**62),
        who: Principal = Depends(principal),
    ) -> dict[str, Any]:
        async with request.app.state.rt.sessionmaker() as session, session.begin():
            n = await discard(session, service=service, ids=[letter_id], by=who.sub, note=body.note)
        if not n:
            raise Problem(404, "未找到待处理的该死信", "no open dead letter with this id")
        return {"discarded": n}

    return router


# ---- CLI ---------------------------------------------------------------------------------------
def _main(argv: list[str] | None = None) -> int:
    import argparse
    import asyncio

    from sqlalchemy import MetaData

    from libs.common.config import SERVICES, service_database_url
    from libs.common.db import make_engine, make_sessionmaker
    from libs.common.outbox import outbox_table
    from libs.common.transient import is_transient

    parser = argparse.ArgumentParser(
        prog="python -m libs.common.deadletters",
        description="Dead letters kept in each service's database. The database comes from "
        "DATABASE_URL (or <SERVICE>_DATABASE_URL), as for the services themselves.",
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    ls = sub.add_parser("list", help="list dead letters (default: open ones of every service)")
    ls.add_argument("service", nargs="?", default="all", help="a service name, or 'all'")
    ls.add_argument("--status", default="open", choices=[*STATUSES, "all"])
    ls.add_argument("--limit", type=int, default=100)
    sh = sub.add_parser("show", help="one dead letter with its original record")
    sh.add_argument("service", choices=SERVICES)
    sh.add_argument("id", type=int)
    rp = sub.add_parser("replay", help="send open dead letters back to their topics (idempotent)")
    rp.add_argument("service", choices=SERVICES)
    which = rp.add_mutually_exclusive_group(required=True)
    which.add_argument("ids", nargs="*", type=int, default=[])
    which.add_argument("--all", action="store_true", help="every open dead letter of the service")
    dc = sub.add_parser("discard", help="close open dead letters without replaying them")
    dc.add_argument("service", choices=SERVICES)
    dc.add_argument("ids", nargs="+", type=int)
    dc.add_argument("--note", required=True, help="why they are not needed (kept in the audit log)")
    args = parser.parse_args(argv)
    outbox = outbox_table(MetaData())
    by = "cli:" + __import__("getpass").getuser()

    async def run(name: str) -> Any:
        engine = make_engine(service_database_url(name), pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                if args.cmd == "list":
                    status = None if args.status == "all" else args.status
                    return {
                        "counts": await counts(session),
                        "items": await list_letters(session, status=status, limit=args.limit),
                    }
                if args.cmd == "show":
                    return await get_letter(session, args.id)
                if args.cmd == "replay":
                    ids = None if args.all else args.ids
                    return await replay(session, service=name, outbox=outbox, ids=ids, by=by)
                return {
                    "discarded": await discard(session, service=name, ids=args.ids, by=by, note=args.note)
                }
        finally:
            await engine.dispose()

    names = list(SERVICES) if getattr(args, "service", "all") == "all" else [args.service]
    status = 0
    for name in names:
        try:
            out = asyncio.run(run(name))
        except Problem as exc:
            print(orjson.dumps({"service": name, "error": exc.detail, "error_en": exc.detail_en}).decode())
            status = 1
            continue
        except Exception as exc:
            if not is_transient(exc):
                raise
            where = service_database_url(name).rsplit("@", 1)[-1]
            print(
                f"{name}: cannot reach its database at {where} ({type(exc).__name__}: {exc}); is DATABASE_URL set?"
            )
            status = 1
            continue
        print(orjson.dumps({"service": name, "result": out}, option=orjson.OPT_INDENT_2).decode())
        if args.cmd == "replay":
            print(f"# {name}: queued in its outbox; its relay publishes them while the service runs")
    return status


if __name__ == "__main__":
    raise SystemExit(_main())
