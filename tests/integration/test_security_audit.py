"""The audit trail: automatic entries for state changes (who, what, when, where, correlation id),
audited unmasked reads, and a chain that exposes edited, deleted and reordered entries."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from libs.common import audit
from libs.common.audit import RequestContext, request_context
from libs.common.crypto import PiiCipher, new_key_spec, rotate_column
from libs.common.db import make_engine, make_sessionmaker
from libs.common.logging import correlation_id
from libs.common.pii import contains_pii
from libs.common.testing.auth import auth
from libs.common.testing.infra import consumers_ready, services, wait_for

PHONE, ID = "13934567812", "140403198805061234"
ORDER = {
    "channel": "counter",
    "requester": {"name": "赵秀兰", "phone": PHONE},
    "region_code": "140403",
    "service_type": "consultation",
    "description": f"离婚后孩子抚养费对方不给，怎么办？我的身份证 {ID}，电话 {PHONE}",
}


async def _fresh(infra, n: int = 6):
    url = await infra.fresh_database("intake", seed=False)
    engine = make_engine(url, pool_size=4)
    sm = make_sessionmaker(engine)
    for i in range(n):
        token = request_context.set(RequestContext(ip="10.0.0.7", actor=f"op_{i}", actor_kind="staff"))
        try:
            async with sm() as session, session.begin():
                await audit.record(session, service="intake", action="test.changed", subject=f"order-{i}")
        finally:
            request_context.reset(token)
    return url, engine, sm


async def _verify(sm):
    async with sm() as session, session.begin():  # the caller owns the transaction
        return await audit.verify(session)


async def test_chain_detects_edit_delete_and_reorder(infra):
    url, engine, sm = await _fresh(infra)
    try:
        ok = await _verify(sm)
        assert ok.ok and ok.entries == 6 and ok.head_hash != audit.GENESIS

        async with sm() as s, s.begin():  # someone "corrects" who did it
            await s.execute(text("UPDATE audit_log SET actor='someone_else' WHERE seq=3"))
        bad = await _verify(sm)
        assert not bad.ok and bad.first_bad_seq == 3 and "changed" in bad.problem
        async with sm() as s, s.begin():
            await s.execute(text("UPDATE audit_log SET actor='op_2' WHERE seq=3"))
        assert (await _verify(sm)).ok  # restoring the original content restores the chain

        async with sm() as s, s.begin():  # two entries swap places (reorder)
            await s.execute(text("UPDATE audit_log SET seq=-1 WHERE seq=4"))
            await s.execute(text("UPDATE audit_log SET seq=4 WHERE seq=5"))
            await s.execute(text("UPDATE audit_log SET seq=5 WHERE seq=-1"))
        reordered = await _verify(sm)
        assert not reordered.ok and reordered.first_bad_seq == 4 and "link" in reordered.problem
        async with sm() as s, s.begin():
            await s.execute(text("UPDATE audit_log SET seq=-1 WHERE seq=4"))
            await s.execute(text("UPDATE audit_log SET seq=4 WHERE seq=5"))
            await s.execute(text("UPDATE audit_log SET seq=5 WHERE seq=-1"))
        assert (await _verify(sm)).ok

        async with sm() as s, s.begin():  # a row quietly removed
            await s.execute(text("DELETE FROM audit_log WHERE seq=2"))
        deleted = await _verify(sm)
        assert not deleted.ok and deleted.first_bad_seq == 3 and "missing" in deleted.problem
    finally:
        await engine.dispose()


async def test_verify_leaves_the_transaction_to_its_caller(infra):
    """verify links the committed entries in the caller's transaction and commits nothing: a
    caller that rolls back keeps neither the links nor its own pending change."""
    url, engine, sm = await _fresh(infra, n=3)
    try:

        async def count(where: str) -> int:
            async with sm() as s:
                return (await s.execute(text(f"SELECT count(*) FROM audit_log WHERE {where}"))).scalar()

        async with sm() as session:
            await session.begin()
            await audit.record(session, service="intake", action="test.pending", subject="x")
            result = await audit.verify(session)
            assert result.ok and result.entries == 4  # its transaction sees its own entry too
            assert session.in_transaction()
            await session.rollback()
        assert await count("seq IS NULL") == 3  # nothing of it was committed
        assert await count("action = 'test.pending'") == 0
        ok = await _verify(sm)  # committed by the caller this time
        assert ok.ok and ok.entries == 3 and await count("seq IS NULL") == 0
    finally:
        await engine.dispose()


async def test_verify_cli_exit_codes(infra):
    url, engine, sm = await _fresh(infra, n=3)
    try:
        cmd = [sys.executable, "-m", "libs.common.audit", "verify", "intake", "--url", url]
        env = {**os.environ, "PYTHONPATH": "."}
        good = await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True, env=env)
        assert good.returncode == 0 and '"ok":true' in good.stdout
        async with sm() as s, s.begin():
            await s.execute(text("UPDATE audit_log SET detail='{\"x\": 1}' WHERE seq=2"))
        bad = await asyncio.to_thread(subprocess.run, cmd, capture_output=True, text=True, env=env)
        assert bad.returncode == 1 and '"first_bad_seq":2' in bad.stdout
    finally:
        await engine.dispose()


async def test_concurrent_appends_keep_one_valid_chain(infra):
    url, engine, sm = await _fresh(infra, n=0)
    try:

        async def append(i: int) -> None:
            async with sm() as session, session.begin():
                await audit.record(session, service="intake", action="test.concurrent", subject=str(i))

        await asyncio.gather(*(append(i) for i in range(20)))
        result = await _verify(sm)
        assert result.ok and result.entries == 20
    finally:
        await engine.dispose()


async def test_state_changes_and_unmasked_reads_are_audited_automatically(infra):
    async with services(infra, "intake") as svc:
        # Joined before we stop: a consumer stopped mid-join stalls its group for later tests.
        await consumers_ready(svc["intake"])
        headers = {**auth("counter_staff", region="140403"), "X-Correlation-ID": "corr-audit-1"}
        # The production log handler (configure_logging) writes into our buffer meanwhile.
        handler = logging.getLogger().handlers[0]
        buffer = io.StringIO()
        previous = handler.setStream(buffer)
        try:
            async with svc["intake"].client(headers=headers) as c:
                r = await c.post("/v1/work-orders", json=ORDER)
                assert r.status_code == 201, r.text
                order = r.json()
                bad = await c.post("/v1/work-orders", json={**ORDER, "requester": {"name": "x", "phone": ID}})
                assert bad.status_code == 422 and ID not in bad.text
            logging.getLogger("services.intake").warning(
                "callback failed for %s (%s), %s", PHONE, ID, headers
            )
        finally:
            handler.setStream(previous)
        logged = buffer.getvalue()
        assert "callback failed for 139****7812 (1404**********1234)" in logged
        for raw in (PHONE, ID, headers["Authorization"].split()[1]):
            assert raw not in logged
        sm = svc["intake"].rt.sessionmaker
        async with sm() as session:
            stored = (await session.execute(text("SELECT requester_phone FROM work_orders"))).scalar()
            events = (await session.execute(text("SELECT event::text FROM outbox"))).scalars().all()
        assert PHONE in stored.replace(" ", "")  # intake keeps it; events and logs never carry it
        assert events and not any(contains_pii(e) for e in events)
        async with sm() as session:
            rows = (await session.execute(text("SELECT * FROM audit_log ORDER BY seq"))).mappings().all()
        created = [e for e in rows if e["action"].startswith("cn.lawline.workorder.created")]
        assert len(created) == 1
        e = created[0]
        assert e["actor"] == "test-counter_staff-140403" and e["roles"] == ["counter_staff"]
        assert e["region"] == "140403" and e["ip"] == "127.0.0.1" and e["correlation_id"] == "corr-audit-1"
        assert e["subject"] and e["detail"]["event_id"]
        # An explicit unmasked read (intake's contact endpoint calls exactly this).
        token = request_context.set(RequestContext(ip="10.1.1.1", actor="op_140403", actor_kind="staff"))
        cid = correlation_id.set("corr-read-1")
        try:
            async with sm() as session, session.begin():
                await audit.record_unmasked_read(
                    session, service="intake", subject=order["id"], fields=["requester_phone"], reason="回拨"
                )
        finally:
            request_context.reset(token)
            correlation_id.reset(cid)
        auditor = auth("audit_admin")  # 三员分立: the audit administrator reads the trail
        async with svc["intake"].client(headers=auditor) as c:
            entries = (await c.get("/v1/audit/entries", params={"subject": order["id"]})).json()
            assert entries[0]["action"] == "pii.unmasked_read" and entries[0]["ip"] == "10.1.1.1"
            assert entries[0]["detail"] == {"fields": ["requester_phone"], "reason": "回拨"}
            v = (await c.get("/v1/audit/verify")).json()
            assert v["ok"] and v["entries"] == len(rows) + 1
        async with svc["intake"].client(headers=auth("supervisor")) as c:
            assert (await c.get("/v1/audit/verify")).status_code == 403


async def test_rotate_column_reencrypts_every_row(infra):
    url = await infra.fresh_database("intake", seed=False)
    engine = make_engine(url, pool_size=2)
    sm = make_sessionmaker(engine)
    index = new_key_spec("i").split(":", 1)[1]
    k1 = new_key_spec("k1")
    old = PiiCipher(k1, index)
    try:
        async with sm() as s, s.begin():
            await s.execute(text("CREATE TABLE people (id int primary key, id_number_enc text)"))
            for i in range(7):
                await s.execute(
                    text("INSERT INTO people VALUES (:i, :v)"),
                    {"i": i, "v": old.encrypt(f"14043019900101{i:04d}")},
                )
        new = PiiCipher(f"{new_key_spec('k2')},{k1}", index)
        done = 0
        while True:
            async with sm() as s, s.begin():
                n = await rotate_column(s, table="people", column="id_number_enc", cipher=new, batch=3)
            done += n
            if n == 0:
                break
        assert done == 7
        async with sm() as s:
            values = (await s.execute(text("SELECT id, id_number_enc FROM people ORDER BY id"))).all()
        assert all(v.startswith("k2:") and new.decrypt(v) == f"14043019900101{i:04d}" for i, v in values)
    finally:
        await engine.dispose()


async def test_appends_do_not_wait_for_each_other_and_are_chained_after_commit(infra):
    """Two requests' transactions append at once: neither waits for the other's commit (the
    old global lock made every state change queue), and both end up on one valid chain."""
    url, engine, sm = await _fresh(infra, n=2)
    try:
        assert await audit.chain_now(sm) == 2
        async with sm() as slow:
            await slow.begin()
            await audit.record(slow, service="intake", action="test.slow", subject="a")
            # While `slow` is still open, another transaction appends and commits.
            async with sm() as fast, fast.begin():
                await asyncio.wait_for(
                    audit.record(fast, service="intake", action="test.fast", subject="b"), timeout=2
                )
            async with sm() as s:
                unchained = (
                    await s.execute(text("SELECT count(*) FROM audit_log WHERE seq IS NULL"))
                ).scalar()
            assert unchained == 1  # `fast` is committed but not linked yet; `slow` is invisible
            await slow.commit()
        result = await _verify(sm)  # verify links whatever is committed first
        assert result.ok and result.entries == 4
        async with sm() as s:
            order = (await s.execute(text("SELECT action FROM audit_log ORDER BY seq"))).scalars().all()
        # Chained in insertion order: the entry appended first comes first.
        assert order[2:] == ["test.slow", "test.fast"]
    finally:
        await engine.dispose()


async def test_a_running_service_chains_its_entries_by_itself(infra):
    async with services(infra, "intake") as svc:
        headers = auth("counter_staff", region="140403")
        async with svc["intake"].client(headers=headers) as c:
            r = await c.post("/v1/work-orders", json=ORDER)
            assert r.status_code == 201, r.text
        sm = svc["intake"].rt.sessionmaker

        async def count(where: str) -> int:
            async with sm() as session:
                return (await session.execute(text(f"SELECT count(*) FROM audit_log WHERE {where}"))).scalar()

        async def all_chained() -> bool:  # no verify call: only the service's own chainer runs
            return await count("seq IS NULL") == 0 and await count("seq IS NOT NULL") >= 2

        await wait_for(all_chained, timeout=10, what="the service's chainer to link its entries")


async def test_entries_chained_before_the_change_still_verify(infra):
    """A database migrated to 0900 whose entries were written by the old appender keeps a
    valid chain through 0901 (seq, prev_hash and hash are untouched; id = seq)."""
    from libs.common.embedded import create_database
    from libs.common.migrate import upgrade

    name = f"t_audit_old_{uuid.uuid4().hex[:8]}"
    await create_database(infra.server_url, name)
    infra.databases.append(name)
    url = infra.db_url(name)
    await asyncio.to_thread(upgrade, "intake", url, "0900")
    engine = make_engine(url, pool_size=1)
    try:
        prev = audit.GENESIS
        async with engine.begin() as conn:
            for seq in (1, 2, 3):
                entry = {
                    "seq": seq, "at": datetime.now(UTC), "service": "intake", "actor": "op", "actor_kind": "staff",
                    "roles": ["operator"], "region": "1404", "ip": None, "correlation_id": None,
                    "action": "old.change", "subject": f"s{seq}", "detail": {"n": seq}, "prev_hash": prev,
                }  # fmt: skip
                entry["hash"] = prev = audit.entry_hash(entry)
                cols = ", ".join(entry)
                await conn.execute(
                    text(
                        f"INSERT INTO audit_log ({cols}) VALUES ({', '.join(':' + k for k in entry)})"
                    ).bindparams(bindparam("roles", type_=JSONB), bindparam("detail", type_=JSONB)),
                    entry,
                )
        await asyncio.to_thread(upgrade, "intake", url)
        sm = make_sessionmaker(engine)
        async with sm() as session, session.begin():
            await audit.record(session, service="intake", action="new.change", subject="s4")
        result = await _verify(sm)
        assert result.ok and result.entries == 4, result
    finally:
        await engine.dispose()
