"""What the whole stack costs when nothing happens (issue #21 item 3: ≤ 2 % of one core).

All six services (intake, dispatch, aid, mediation, identity, console) as uvicorn subprocesses
on their own migrated, seeded databases, with the embedded PostgreSQL and broker. Once every
service is ready and has settled (consumer groups joined, first polls done), the CPU seconds
of each process — PostgreSQL with all its backends — are read from /proc over `seconds`, with
no request and no order. What remains is the price of waiting: consumer fetch loops, the
outbox relay's wake-ups, audit chaining, sweepers and health of the parts.

Its own stack (not the one the other phases load with orders): idle means idle from the start.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

from bench import stack as stk
from bench import throughput

SERVICES = ("identity", "intake", "dispatch", "aid", "mediation")


async def measure(seconds: float = 60.0, settle: float = 10.0, spy: Path | None = None) -> dict:
    """`spy`: a folder for a py-spy profile of each service over the same window (where the
    idle time goes; py-spy must be installed — it is not a dependency)."""
    stack = stk.start()
    try:
        for service in SERVICES:
            url = await stack.database(f"idle_{service}", service, seed=True)
            stack.start_service(service, url)
        urls = {f"{s.upper()}_URL": stack.procs[s].url for s in SERVICES}
        # The console keeps no database: it is a client of the five (services/console/settings.py).
        stack.start_service("console", "", env=urls)
        for proc in list(stack.procs.values()):
            await stack.ready(proc, timeout=90)
        await asyncio.sleep(settle)
        pids: dict[str, int | None] = {n: p.popen.pid for n, p in stack.procs.items()}
        pids["postgres"] = throughput.postmaster_pid(stack.pg.data_dir)
        pids["broker"] = stack.broker.process.pid if stack.broker.process else None

        def cpu() -> dict[str, float | None]:
            return {
                n: throughput.tree_cpu_s(pid) if n == "postgres" else throughput.process_cpu_s(pid)
                for n, pid in pids.items()
            }

        spies = (
            [
                subprocess.Popen(  # noqa: ASYNC220 (started and left running; waited for below)
                    [
                        "py-spy",
                        "record",
                        "-d",
                        str(int(seconds)),
                        "-p",
                        str(p.popen.pid),
                        "-f",
                        "raw",
                        "-o",
                        str(spy / f"{n}.txt"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for n, p in stack.procs.items()
            ]
            if spy
            else []
        )
        before, t0 = cpu(), time.monotonic()
        await asyncio.sleep(seconds)
        for s in spies:
            await asyncio.to_thread(s.wait, 30)
        after, elapsed = cpu(), time.monotonic() - t0
        per = {
            n: round((after[n] - before[n]) / elapsed * 100, 2)  # type: ignore[operator]
            for n in pids
            if before[n] is not None and after[n] is not None
        }
        return {
            "seconds": round(elapsed, 1),
            "percent_of_one_core": per,
            "total_percent_of_one_core": round(sum(per.values()), 2),
            "target": "≤ 2 % of one core",
        }
    finally:
        stack.stop()


if __name__ == "__main__":
    import json
    import sys

    window = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    folder = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    if folder:
        folder.mkdir(parents=True, exist_ok=True)
    print(json.dumps(asyncio.run(measure(window, spy=folder)), indent=2))
