"""The services, in this process, on `make run`'s own databases and broker, all reading one
FrozenClock — and the people who use them: each logs in with the demo password, as at the
console, and calls the APIs with their own token."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from libs.common import demo_network
from libs.common.clock import FrozenClock
from libs.common.testing.infra import RunningService, serve

log = logging.getLogger("lawline.demo_history")
PASSWORD = "Lawline@12348"
SERVICES = ("identity", "intake", "dispatch", "aid", "mediation")


class Failed(Exception):
    """A call the script expected to succeed did not: the step is skipped, the load goes on."""


# The script sweeps the clocks itself, right after each move of the frozen clock: a background
# sweeper reading the clock in between would time out offers about to be taken, and intake's
# reconciliation would find dispatch "silent" for the minutes the clock jumped while dispatch was
# still routing (the script waits for every order's offer instead). Off while the script runs.
QUIET = {
    "AID_SWEEP_SECONDS": "0",
    "LAWLINE_MEDIATION_SWEEP_SECONDS": "0",
    "LAWLINE_INTAKE_RECONCILE_INTERVAL_SECONDS": "86400",
}


def _clear_settings() -> None:
    from services.intake.settings import get_intake_settings
    from services.mediation.settings import get_mediation_settings

    get_intake_settings.cache_clear()
    get_mediation_settings.cache_clear()


@contextlib.contextmanager
def _no_background_sweeps() -> Iterator[None]:
    import services.dispatch.main as dispatch_main

    saved_env = {k: os.environ.get(k) for k in QUIET}
    saved = dispatch_main.SWEEP_SECONDS
    dispatch_main.SWEEP_SECONDS = 0
    os.environ.update(QUIET)
    _clear_settings()
    try:
        yield
    finally:
        dispatch_main.SWEEP_SECONDS = saved
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        _clear_settings()


@contextlib.asynccontextmanager
async def running(urls: dict[str, str], bootstrap: str, clock: FrozenClock) -> AsyncIterator[Stack]:
    started: dict[str, RunningService] = {}
    try:
        with _no_background_sweeps():
            for name in SERVICES:  # identity first: the others wait for its credential snapshot
                module = importlib.import_module(f"services.{name}.main")
                app = module.create_app(db_url=urls[name], bootstrap=bootstrap, clock=clock)
                started[name] = await serve(name, app, stand_in=False)
        async with Stack(started, clock) as stack:
            yield stack
    finally:
        for svc in reversed(list(started.values())):
            await svc.stop()


class Stack:
    def __init__(self, svcs: dict[str, RunningService], clock: FrozenClock) -> None:
        self.svcs, self.clock = svcs, clock
        self.http = {n: httpx.AsyncClient(base_url=s.url, timeout=30) for n, s in svcs.items()}
        self.tokens: dict[str, str] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.api_key: str | None = None
        points, staff = demo_network.build()
        self.staff = {str(s.id): s for s in staff}
        self.people = staff
        self.points = points
        self.calls = 0
        # Who logs in with the password: the city's 12348 operators and the county counters.
        self.front_desk = {
            p.code
            for p in staff
            if p.role == "operator" or (p.point.tier == "county" and p.role == "legal_worker")
        }
        self.login_seconds = 0.0

    async def __aenter__(self) -> Stack:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for c in self.http.values():
            await c.aclose()

    def rt(self, name: str) -> Any:
        return self.svcs[name].rt

    async def token(self, username: str) -> str:
        """The person's access token. The front desk logs in like at the console (POST
        /v1/auth/login); the hundreds of case workers dispatch hands orders to get their session
        from identity's own use case (start_session: a refresh family, audited, announced) —
        everything a login does but the argon2 check of the demo password, ~60 ms of this one
        event loop each, which would be most of the load's time."""
        lock = self.locks.setdefault(username, asyncio.Lock())
        async with lock:
            if username not in self.tokens:
                t0 = time.monotonic()
                if username in self.front_desk or not username.startswith("S"):
                    self.tokens[username] = await self._login(username)
                else:
                    self.tokens[username] = await self._session(username)
                self.login_seconds += time.monotonic() - t0
        return self.tokens[username]

    async def _login(self, username: str) -> str:
        r = await self.http["identity"].post(
            "/v1/auth/login", json={"username": username, "password": PASSWORD}
        )
        if r.status_code != 200:
            raise Failed(f"login {username}: {r.status_code} {r.text[:200]}")
        return str(r.json()["access_token"])

    async def _session(self, username: str) -> str:
        from sqlalchemy import select

        from services.identity import service
        from services.identity.models import Account

        async with self.rt("identity").sessionmaker() as session, session.begin():
            account = await session.scalar(select(Account).where(Account.username == username))
            if account is None or not account.active:
                raise Failed(f"no active account {username}")
            account.last_login_at = self.clock.now()
            out = await service.start_session(session, account=account, now=self.clock.now())
        return str(out["access_token"])

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        as_: str | None = None,
        ok: tuple[int, ...] = (200, 201),
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> Any:
        """One API call as the person `as_` (a username), or anonymous; the JSON answer."""
        h = dict(headers or {})
        if as_:
            h["Authorization"] = f"Bearer {await self.token(as_)}"
        self.calls += 1
        r = await self.request(service, method, path, headers=h, **kw)
        if r.status_code not in ok:
            raise Failed(f"{method} {service}{path} as {as_}: {r.status_code} {r.text[:300]}")
        return r.json() if r.content else None

    async def request(self, service: str, method: str, path: str, **kw: Any) -> httpx.Response:
        """One HTTP request; once more if a kept-alive connection was closed under it (uvicorn
        drops idle ones after 5 s). Before the request was written (RemoteProtocolError,
        ConnectError) the server never saw it; during the read (ReadError, seen once in `make run`)
        it may have, so only a read or a create with an Idempotency-Key goes again. Anything else
        is a failed step, never the end of the load."""
        try:
            return await self.http[service].request(method, path, **kw)
        except (httpx.RemoteProtocolError, httpx.ConnectError) as first:
            return await self._again(service, method, path, first, **kw)
        except httpx.ReadError as first:
            if method.upper() in ("GET", "HEAD") or "Idempotency-Key" in (kw.get("headers") or {}):
                return await self._again(service, method, path, first, **kw)
            raise Failed(f"{method} {service}{path}: connection dropped mid-answer ({first!r})") from first

    async def _again(
        self, service: str, method: str, path: str, first: Exception, **kw: Any
    ) -> httpx.Response:
        try:
            return await self.http[service].request(method, path, **kw)
        except httpx.TransportError as e:
            raise Failed(f"{method} {service}{path}: {first!r}, then {e!r}") from e

    async def poll(self, fetch: Any, *, timeout: float = 15.0, interval: float = 0.05) -> Any:
        """Wait for an event to have crossed the broker: `fetch()` until it returns something."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = await fetch()
            if found:
                return found
            if asyncio.get_running_loop().time() > deadline:
                return None
            await asyncio.sleep(interval)
            interval = min(interval * 1.5, 0.15)


class People:
    """The demo network's people the script acts as, by county."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        staff = stack.people
        self.operators = [s for s in staff if s.role == "operator"]
        self.counter: dict[str, list[Any]] = {}  # county → its centre's counter clerks (法律工作者)
        for s in staff:
            if s.point.tier == "county" and s.role == "legal_worker":
                self.counter.setdefault(s.point.county_code, []).append(s)

    def operator(self, o: Any) -> Any:
        """The city 12348 operator who takes the order's call (the same one every time)."""
        return self.operators[int(o.key[1:]) % len(self.operators)]

    def code(self, staff_id: str) -> str:
        return self.stack.staff[str(staff_id)].code

    def county_staff(self, county: str, role: str) -> Any:
        return next(
            s
            for s in self.stack.people
            if s.point.county_code == county and s.point.tier == "county" and s.role == role
        )
