"""Play the plan: the frozen clock moves tick by tick (an hour of a working day), and at each
tick the clocks are swept, the hour's orders filed, their offers answered and the older
orders' next steps taken — waiting each time for the events to cross the broker."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from libs.common.clock import CHINA_TZ, FrozenClock
from scripts.demo_history import steps
from scripts.demo_history.plan import DemoOrder, Plan
from scripts.demo_history.stack import Failed, People, Stack, log, running

CONCURRENCY = 10


@dataclass
class Result:
    filed: int = 0
    steps: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    calls: int = 0


def china(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA_TZ).astimezone(UTC)


class Player:
    def __init__(self, stack: Stack, plan: Plan) -> None:
        self.stack, self.plan = stack, plan
        self.people = People(stack)
        self.state: dict[str, dict] = {}
        self.result = Result()
        self.gate = asyncio.Semaphore(CONCURRENCY)
        self.timing: dict[str, float] = {}

    async def guarded(self, what: str, coro) -> None:  # type: ignore[no-untyped-def]
        async with self.gate:
            try:
                await coro
                self.result.steps += 1
            except Failed as e:
                self.result.failed.append(f"{what}: {e}")
                log.warning("demo history: %s: %s", what, e)

    async def file(self, o: DemoOrder) -> None:
        try:
            out = await steps.file(self.stack, self.people, o)
        except Failed as e:
            self.result.failed.append(f"{o.key} file: {e}")
            return
        self.state[o.key] = {"id": str(out["id"]), "number": out["number"]}
        self.result.filed += 1

    async def sweep(self, daily: bool) -> None:
        from services.dispatch.supervision import sweep_once

        await sweep_once(self.stack.rt("dispatch").sessionmaker, now=self.stack.clock.now())
        if daily:  # the statutory clocks of the cases, as their sweepers would
            await self.stack.call("aid", "POST", "/v1/clock-sweeps", as_=steps.SUPERVISOR)
            await self.stack.call("mediation", "POST", "/v1/supervision/sweep", as_=steps.SUPERVISOR)

    async def tick(
        self, day: int, hour: int, filed: list[DemoOrder], due: list[tuple[DemoOrder, str]]
    ) -> None:
        clock, d = self.stack.clock, self.plan.day_date(day)
        clock.at = china(d, hour)
        t0 = time.monotonic()
        await self.sweep(daily=self._new_day(day))
        t1 = time.monotonic()
        for o in sorted(filed, key=lambda o: o.minute):
            clock.at = china(d, hour, o.minute)
            await self.file(o)
        t2 = time.monotonic()
        # Ten minutes on: the hour's offers are answered and older orders take their next step.
        clock.at = china(d, hour, 50)
        by_order: dict[str, list[str]] = defaultdict(list)
        orders: dict[str, DemoOrder] = {}
        for o, action in due:
            if o.key in self.state:
                by_order[o.key].append(action)
                orders[o.key] = o
        await asyncio.gather(
            *(
                self.guarded(f"{o.key} respond", steps.respond(self.stack, self.people, o, self.state[o.key]))
                for o in filed
                if o.key in self.state
            ),
            *(self.guarded(f"{k} {a}", self.run_steps(orders[k], a)) for k, a in by_order.items()),
        )
        t3 = time.monotonic()
        for k, v in (("sweep", t1 - t0), ("file", t2 - t1), ("act", t3 - t2)):
            self.timing[k] = self.timing.get(k, 0.0) + v

    async def run_steps(self, o: DemoOrder, actions: list[str]) -> None:
        for action in actions:
            await steps.run_step(self.stack, self.people, o, self.state[o.key], action)

    _last_day = -1

    def _new_day(self, day: int) -> bool:
        new, self._last_day = day != self._last_day, day
        return new

    async def play(self, now: datetime) -> None:
        plan = self.plan
        creates: dict[tuple[int, int], list[DemoOrder]] = defaultdict(list)
        due: dict[tuple[int, int], list[tuple[DemoOrder, str]]] = defaultdict(list)
        for o in plan.orders:
            creates[(o.day, o.hour)].append(o)
            for s in o.steps:
                if s.day < plan.days:
                    due[(s.day, s.hour)].append((o, s.action))
        self.stack.clock.at = china(plan.day_date(0), 8)
        await steps.make_api_key(self.stack)
        for day, hour in sorted(set(creates) | set(due)):
            await self.tick(day, hour, creates.get((day, hour), []), due.get((day, hour), []))
        await self.today(now)

    async def today(self, now: datetime) -> None:
        """Today's orders, filed in the minutes before now: their offers are live when the
        real services start."""
        clock = self.stack.clock
        clock.at = now - timedelta(minutes=3 * len(self.plan.today) + 1)
        await self.sweep(daily=True)
        for o in self.plan.today:
            clock.advance(minutes=3)
            await self.file(o)
        await asyncio.gather(
            *(
                self.guarded(f"{o.key} respond", steps.respond(self.stack, self.people, o, self.state[o.key]))
                for o in self.plan.today
                if o.key in self.state
            )
        )


async def load(urls: dict[str, str], bootstrap: str, plan: Plan, *, now: datetime | None = None) -> Result:
    """Play `plan` on these databases (migrated and seeded) through in-process services."""
    started = time.monotonic()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per call of the script otherwise
    now = now or datetime.now(UTC)
    clock = FrozenClock(china(plan.day_date(0), 8))
    async with running(urls, bootstrap, clock) as stack:
        player = Player(stack, plan)
        await player.play(now)
        log.info("demo history timing: %s", {k: round(v, 1) for k, v in player.timing.items()})
        player.result.calls = stack.calls
        await _settle(stack)
    player.result.seconds = time.monotonic() - started
    log.info("demo history: %.1f s in logins (%d people)", stack.login_seconds, len(stack.tokens))
    return player.result


async def _settle(stack: Stack, timeout: float = 20.0) -> None:
    """Let the last events be consumed before the services stop (the real ones would catch up
    anyway: the consumer groups are the same)."""
    from sqlalchemy import text

    async def drained() -> bool:
        for name in ("intake", "dispatch", "aid", "mediation"):
            async with stack.rt(name).sessionmaker() as s:
                n = await s.scalar(text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))
            if n:
                return False
        return True

    await stack.poll(drained, timeout=timeout)
    await asyncio.sleep(1.0)
