"""A month of 长治's work, loaded once into an empty system (`make run`, issue #16 item 7).

The network (counties, townships, staff, rosters) is seeded; without history every figure is
zero. On a database with no order yet, `load_if_empty` starts the services in this process on
the same databases and broker with one frozen clock set a month back, and plays a scripted
month through their own APIs — operators, counter clerks, citizens on the web and external
systems file orders; staff take and turn down offers; aid officers, lawyers and mediators work
their cases; operators call back, close and take ratings — moving the clock hour by hour.
Deterministic (plan.py, fixed seed); every order's description starts with 【演示】.
`LAWLINE_DEMO_HISTORY=0` skips it; `python -m scripts.demo_history` runs it by hand.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from libs.common.clock import CHINA_TZ

ENV = "LAWLINE_DEMO_HISTORY"


@dataclass(frozen=True)
class Outcome:
    skipped: str | None  # why nothing was loaded
    line: str  # one line for the log
    failed: tuple[str, ...] = ()


async def has_orders(intake_url: str) -> bool:
    from sqlalchemy import text

    from libs.common.db import make_engine

    engine = make_engine(intake_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return bool(await conn.scalar(text("SELECT EXISTS (SELECT 1 FROM work_orders)")))
    finally:
        await engine.dispose()


async def counts(intake_url: str) -> dict[str, int]:
    from sqlalchemy import text

    from libs.common.db import make_engine

    engine = make_engine(intake_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(text("SELECT status, count(*) FROM work_orders GROUP BY status"))
            ).all()
            rated = await conn.scalar(text("SELECT count(*) FROM work_orders WHERE rating_score IS NOT NULL"))
    finally:
        await engine.dispose()
    out = {str(s): int(n) for s, n in rows}
    out["rated"] = int(rated or 0)
    return out


async def load_if_empty(
    urls: dict[str, str],
    bootstrap: str,
    *,
    days: int = 30,
    per_day: int = 15,
    today: int = 6,
    on_start: Callable[[], None] | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Load the history unless switched off or intake already holds an order."""
    if os.environ.get(ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return Outcome(f"{ENV}=0", f"demo history skipped ({ENV}=0)")
    if await has_orders(urls["intake"]):
        return Outcome("orders exist", "demo history skipped: intake already holds orders")
    if on_start:
        on_start()
    from scripts.demo_history.driver import load
    from scripts.demo_history.plan import build_plan

    now = now or datetime.now(UTC)
    start = now.astimezone(CHINA_TZ).date() - timedelta(days=days)
    plan = build_plan(start=start, days=days, per_day=per_day, today=today)
    result = await load(urls, bootstrap, plan, now=now)
    c = await counts(urls["intake"])
    by_status = ", ".join(f"{k} {v}" for k, v in sorted(c.items()) if k != "rated")
    line = (
        f"demo history: {result.filed} orders over {days} days ({by_status}; {c['rated']} rated), "
        f"{result.steps} steps, {result.calls} API calls in {result.seconds:.0f} s"
        + (f"; {len(result.failed)} steps failed (first: {result.failed[0][:160]})" if result.failed else "")
    )
    return Outcome(None, line, tuple(result.failed))
