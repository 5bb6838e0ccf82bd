"""Switching LAWLINE_CRYPTO from AES to SM (国密) on a live database: the audit chain keeps its
SHA-256 links and goes on in SM3, `verify` checks both and still catches edits on either side;
blind-index lookups find rows of both modes during the switch, and `rotate --index-column`
moves the rows (ciphertext and index) into SM4 / HMAC-SM3."""

from __future__ import annotations

from sqlalchemy import text

from libs.common import audit, crypto
from libs.common.audit import RequestContext, request_context
from libs.common.crypto import PiiCipher, new_key_spec, rotate_column
from libs.common.db import make_engine, make_sessionmaker


async def _append(sm, start: int, n: int) -> None:
    for i in range(start, start + n):
        token = request_context.set(RequestContext(ip="10.0.0.7", actor=f"op_{i}", actor_kind="staff"))
        try:
            async with sm() as session, session.begin():
                await audit.record(session, service="intake", action="test.changed", subject=f"order-{i}")
        finally:
            request_context.reset(token)


async def _verify(sm):
    async with sm() as session, session.begin():
        return await audit.verify(session)


async def test_audit_chain_verifies_across_the_switch_to_sm3(infra, monkeypatch):
    url = await infra.fresh_database("intake", seed=False)
    engine = make_engine(url, pool_size=2)
    sm = make_sessionmaker(engine)
    try:
        await _append(sm, 0, 3)
        assert (await _verify(sm)).ok  # chained under the default: SHA-256
        monkeypatch.setenv("LAWLINE_CRYPTO", "sm")  # the restart with the new setting
        crypto.crypto_mode.cache_clear()
        await _append(sm, 3, 3)
        v = await _verify(sm)
        assert v.ok and v.entries == 6 and v.head_hash.startswith("sm3:")
        async with sm() as s:
            rows = (await s.execute(text("SELECT seq, prev_hash, hash FROM audit_log ORDER BY seq"))).all()
        assert [audit.chain.hash_algorithm(r.hash) for r in rows] == ["sha256"] * 3 + ["sm3"] * 3
        assert rows[3].prev_hash == rows[2].hash  # the first SM3 link names the last SHA-256 hash
        for seq in (2, 5):  # an edit is caught on either side of the switch
            async with sm() as s, s.begin():
                await s.execute(text("UPDATE audit_log SET actor='someone_else' WHERE seq=:q"), {"q": seq})
            bad = await _verify(sm)
            assert not bad.ok and bad.first_bad_seq == seq and "changed" in bad.problem
            async with sm() as s, s.begin():
                await s.execute(
                    text("UPDATE audit_log SET actor=:a WHERE seq=:q"), {"a": f"op_{seq - 1}", "q": seq}
                )
            assert (await _verify(sm)).ok
    finally:
        crypto.crypto_mode.cache_clear()
        await engine.dispose()


async def test_blind_index_lookups_during_and_after_the_switch(infra):
    url = await infra.fresh_database("intake", seed=False)
    engine = make_engine(url, pool_size=2)
    sm = make_sessionmaker(engine)
    index, aes_key, sm4_key = (
        new_key_spec("i").split(":", 1)[1],
        new_key_spec("k1"),
        new_key_spec("s1", sm4=True),
    )
    before = PiiCipher(aes_key, index)
    after = PiiCipher(aes_key, index, mode="sm", sm4_keys=sm4_key)
    ids = [f"14043019900101{i:04d}" for i in range(7)]

    async def find(cipher: PiiCipher, value: str) -> list[int]:
        async with sm() as s:
            rows = await s.execute(
                text("SELECT id FROM people WHERE id_bidx = ANY(:ix) ORDER BY id"),
                {"ix": list(cipher.lookup_indexes(value))},
            )
            return [r.id for r in rows]

    try:
        async with sm() as s, s.begin():
            await s.execute(
                text("CREATE TABLE people (id int primary key, id_enc text, id_bidx varchar(64))")
            )
            for i, value in enumerate(ids):  # 0–4 written before the switch, 5–6 after it
                c = before if i < 5 else after
                await s.execute(
                    text("INSERT INTO people VALUES (:i, :v, :x)"),
                    {"i": i, "v": c.encrypt(value), "x": c.blind_index(value)},
                )
        # During the switch: each row is found whichever mode indexed it.
        assert await find(after, ids[1]) == [1] and await find(after, ids[6]) == [6]
        assert await find(before, ids[6]) == [6]  # an instance still on AES finds new rows too
        done = 0
        while True:  # the migration: python -m libs.common.crypto rotate … --index-column id_bidx
            async with sm() as s, s.begin():
                n = await rotate_column(
                    s, table="people", column="id_enc", index_column="id_bidx", cipher=after, batch=2
                )
            done += n
            if n == 0:
                break
        assert done == 5  # the SM rows were left as they were
        async with sm() as s:
            rows = (await s.execute(text("SELECT id, id_enc, id_bidx FROM people ORDER BY id"))).all()
        assert all(r.id_enc.startswith("sm4:s1:") and after.decrypt(r.id_enc) == ids[r.id] for r in rows)
        assert all(r.id_bidx == after.blind_index(ids[r.id]) for r in rows)  # all HMAC-SM3 now
        assert await find(after, ids[1]) == [1] and await find(after, ids[2].lower()) == [2]
    finally:
        await engine.dispose()
