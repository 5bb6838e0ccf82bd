"""Credentials survive a broker that comes back empty: every service's credential cache is fed
by the identity topic, which the restarted broker has lost. An API key made before the restart
keeps working and a token revoked by logout stays revoked — in a running service throughout,
and in a service started after the restart (from identity's snapshot of its database); a key
made after the restart reaches the running service. Identity and intake, on a private broker."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import httpx
from sqlalchemy import text

from libs.common.events.identity import CREDENTIALS_SNAPSHOT
from libs.common.events.topics import IDENTITY, topic
from libs.common.testing.infra import services, wait_for
from services.identity.domain import DEMO_PASSWORD
from tests.integration.pipeline_helpers import CHECK_SECONDS, read_topic

# A work order nobody made: a caller the cache lets in gets 404, one it refuses gets 401.
NOBODY = f"/v1/work-orders/{uuid.uuid4()}"


async def _login(c, username: str) -> dict:  # type: ignore[no-untyped-def]
    r = await c.post("/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()


async def _new_key(c, admin: dict) -> str:  # type: ignore[no-untyped-def]
    r = await c.post(
        "/v1/api-keys",
        headers={"Authorization": f"Bearer {admin['access_token']}"},
        json={"name": "市12345热线", "scopes": ["workorders:read"], "region": "140430"},
    )
    assert r.status_code == 201, r.text
    return r.json()["api_key"]


async def _answers(intake, headers: dict[str, str]) -> tuple[int, str | None]:  # type: ignore[no-untyped-def]
    async with intake.client() as c:
        r = await c.get(NOBODY, headers=headers)
    code = r.json().get("code") if r.headers.get("content-type", "").endswith("json") else None
    return r.status_code, code


async def _until(intake, headers: dict[str, str], status: int) -> None:  # type: ignore[no-untyped-def]
    async def there():
        return (await _answers(intake, headers))[0] == status

    await wait_for(there, timeout=15, what=f"{status} from {intake.name} for {list(headers)}")


async def _sample(intake, key: dict, revoked: dict, seen: list) -> None:  # type: ignore[no-untyped-def]
    while True:
        seen.append((await _answers(intake, key), await _answers(intake, revoked)))
        await asyncio.sleep(0.1)


async def test_keys_and_revocations_survive_a_broker_restart(infra, private_broker, fast_settings):
    fast_settings(broker_check_seconds=CHECK_SECONDS)
    private = private_broker.infra(infra)
    async with services(private, "identity", "intake") as svc:
        identity, intake = svc["identity"], svc["intake"]  # (intake's own consumer plays no part here)
        async with identity.client() as c:
            old_key = {"X-API-Key": await _new_key(c, await _login(c, "admin"))}
            session = await _login(c, "op_140430")
            revoked = {"Authorization": f"Bearer {session['access_token']}"}
            await _until(intake, revoked, 404)  # a valid token: let in
            r = await c.post(
                "/v1/auth/logout", headers=revoked, json={"refresh_token": session["refresh_token"]}
            )
            assert r.status_code == 204
        await _until(intake, old_key, 404)
        await _until(intake, revoked, 401)
        assert await _answers(intake, revoked) == (401, "token_revoked")

        # As if made long ago: identity's relay no longer republishes those events (its window is
        # 7 days), so only identity's snapshot of its database can bring them back.
        async with identity.rt.sessionmaker() as s, s.begin():
            await s.execute(text("UPDATE outbox SET published_at = published_at - interval '30 days'"))

        # The broker restarts empty; the running intake is asked all along.
        seen: list = []
        sampler = asyncio.create_task(_sample(intake, old_key, revoked, seen))
        try:
            epochs = {name: s.rt.watch.epoch for name, s in svc.items()}
            feed = intake.rt.identity_feed
            rereads = feed.rereads
            private_broker.restart()

            async def repaired():
                # Says which part is missing, should it never come (seen once in CI under load:
                # Tansu, just restarted, answered fetches empty for a while).
                stale = [n for n, s in svc.items() if s.rt.watch.epoch == epochs[n]]
                if stale:
                    return f"old epoch still seen by {stale}"
                if feed.rereads == rereads:
                    return "identity feed not re-read yet"
                records = await read_topic(private_broker.bootstrap, topic(IDENTITY), timeout=5.0)
                if any(dict(r.headers)["ce_type"].decode() == CREDENTIALS_SNAPSHOT for r in records):
                    return True
                return f"no snapshot among the identity topic's {len(records)} records yet"

            missing: list = [None]

            async def done():  # type: ignore[no-untyped-def]
                missing[0] = await repaired()
                return missing[0] is True or None

            try:
                await wait_for(
                    done, timeout=60, what="a new epoch, the feed re-read and a snapshot announced"
                )
            except AssertionError as exc:
                raise AssertionError(f"{exc}: {missing[0]}") from None
            await asyncio.sleep(1.0)  # the feed reads the snapshot
        finally:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
        assert seen
        assert all(k == (404, None) for k, _ in seen), [k for k, _ in seen if k != (404, None)][:3]
        assert all(t == (401, "token_revoked") for _, t in seen), [t for _, t in seen if t[0] != 401][:3]

        # A key made after the restart reaches the running intake through the new log.
        async with identity.client() as c:
            new_key = {"X-API-Key": await _new_key(c, await _login(c, "admin"))}
        await _until(intake, new_key, 404)

        # A service that starts now knows only the new log: identity's snapshot and what followed.
        async with services(private, "intake", stand_in=False) as fresh:
            late = fresh["intake"]
            assert late.app.state.credentials.ready
            assert await _answers(late, old_key) == (404, None)
            assert await _answers(late, revoked) == (401, "token_revoked")
            assert await _answers(late, new_key) == (404, None)
        assert await _answers(intake, old_key) == (404, None)
        assert await _answers(intake, revoked) == (401, "token_revoked")


async def test_a_service_started_while_identity_is_away_after_a_reset_waits_for_its_snapshot(
    infra, private_broker, fast_settings
):
    """The broker came back empty while identity was down: a service starting then has nothing to
    learn revocations from. It answers 503 (never lets a revoked token in, never calls a valid key
    invalid) until identity is back and has announced its snapshot."""
    from libs.common.testing.infra import serve
    from services.identity.main import create_app as identity_app

    fast_settings(broker_check_seconds=CHECK_SECONDS)
    private = private_broker.infra(infra)
    async with services(private, "identity") as svc:
        identity = svc["identity"]
        async with identity.client() as c:
            key = {"X-API-Key": await _new_key(c, await _login(c, "admin"))}
            session = await _login(c, "op_140430")
            revoked = {"Authorization": f"Bearer {session['access_token']}"}
            r = await c.post(
                "/v1/auth/logout", headers=revoked, json={"refresh_token": session["refresh_token"]}
            )
            assert r.status_code == 204
        identity_db = identity.rt.db_url
    private_broker.restart()  # identity is down: nobody re-announces

    from services.intake.main import create_app as intake_app

    url = await private.fresh_database("intake")
    app = intake_app(db_url=url, bootstrap=private_broker.bootstrap)
    starting = asyncio.create_task(serve("intake", app, stand_in=False))
    await asyncio.sleep(6 * CHECK_SECONDS + 2)
    assert not starting.done() and not app.state.credentials.ready  # still waiting for the cache
    assert app.state.rt.identity_feed.health() == "waiting for identity's credential snapshot"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as c:
        for headers in (key, revoked):
            r = await c.get(NOBODY, headers=headers)
            assert r.status_code == 503 and r.headers["retry-after"], r.text
            assert r.json()["code"] == "credentials_loading"
    # Identity comes back and announces its snapshot from its database: the service is ready.
    back = await serve("identity", identity_app(db_url=identity_db, bootstrap=private_broker.bootstrap))
    try:
        late = await asyncio.wait_for(starting, 30)
        try:
            assert await _answers(late, key) == (404, None)
            assert await _answers(late, revoked) == (401, "token_revoked")
        finally:
            await late.stop()
    finally:
        await back.stop()
