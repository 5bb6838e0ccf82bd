"""`make run`: the whole system on one machine.

Starts an embedded PostgreSQL (data under ./var/pg) and the embedded Kafka-protocol
broker unless DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS name real ones, creates one
database per service, migrates, loads the demo network, starts every service with
uvicorn, and supervises them (scripts/supervisor.py): a service, the broker or PostgreSQL that
dies is restarted with backoff. Ctrl-C or SIGTERM stops all of it — services, then broker,
then PostgreSQL — with no orphan left.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import urllib.request
from pathlib import Path

from libs.common.config import SERVICES, service_database_url, service_port
from libs.common.embedded import EmbeddedBroker, EmbeddedPostgres, create_database
from libs.common.migrate import upgrade
from scripts.supervisor import Child, ProcessHandle, Supervisor

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var"


def log(msg: str) -> None:
    print(f"[lawline] {msg}", flush=True)


def app_services() -> list[str]:
    """The core services (SERVICES includes identity), plus the console where it exists."""
    extra = [s for s in ("console",) if (ROOT / "services" / s / "main.py").exists()]
    return list(SERVICES) + extra


async def prepare_databases(server_url: str) -> None:
    for s in SERVICES:
        if not os.environ.get(f"{s.upper()}_DATABASE_URL"):
            await create_database(server_url, f"lawline_{s}")
    for s in SERVICES:
        await asyncio.to_thread(upgrade, s, service_database_url(s))
    from libs.common.seed import seed_all

    await seed_all()


def load_demo_history() -> None:
    """First start only (no order yet): a month of history through the services' own APIs,
    before the real services start (scripts/demo_history; LAWLINE_DEMO_HISTORY=0 skips it)."""
    from scripts.demo_history import load_if_empty

    def starting() -> None:
        log(
            "no order yet: loading a month of demo history (about 2 minutes; LAWLINE_DEMO_HISTORY=0 skips it) …"
        )

    urls = {s: service_database_url(s) for s in SERVICES}
    try:
        out = asyncio.run(load_if_empty(urls, os.environ["KAFKA_BOOTSTRAP_SERVERS"], on_start=starting))
    except Exception as e:  # the history is a convenience: the system itself starts regardless
        log(f"demo history stopped early ({e!r}); what was loaded stays, the services start anyway")
        return
    log(out.line)


def wait_healthy(port: int, sup: Supervisor, timeout: float = 60.0) -> bool:
    """Wait for a service's /healthz, supervising meanwhile (one may crash while another boots)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not sup.stop_requested:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            sup.tick()
            time.sleep(0.2)
    return False


def service_child(s: str) -> Child:
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        f"services.{s}.main:create_app",
        "--host",
        os.environ.get("LAWLINE_HOST", "127.0.0.1"),
        "--port",
        str(service_port(s)),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    return ProcessHandle(cmd, popen_kwargs={"cwd": ROOT}, log=log).child(s, tier=2)


def postgres_child(pg: EmbeddedPostgres) -> Child:
    # The postmaster is daemonized by pg_ctl, not our child: no exit code to report.
    def describe() -> str:
        return f"postmaster pid {pg.postmaster.pid}" if pg.postmaster else ""

    return Child("postgres", pg.start, pg.running, pg.stop, describe=describe, tier=0)


def broker_child(broker: EmbeddedBroker) -> Child:
    # Memory-only storage: a restarted broker comes back empty; the services repair that.
    def describe() -> str:
        return f"pid {broker.process.pid}" if broker.process else ""

    return Child("broker", broker.start, broker.running, broker.stop, broker.exit_code, describe, tier=1)


def main() -> int:
    VAR.mkdir(exist_ok=True)
    # Only the parts started here are supervised: external servers named by DATABASE_URL /
    # KAFKA_BOOTSTRAP_SERVERS are someone else's to run.
    sup = Supervisor(log=log)
    supervising = False

    def on_signal(signum: int, _frame: object) -> None:
        # While starting (migrations, seeding) nothing can be left half-done: interrupt at
        # once. Once supervising, only ask: a restart in progress finishes, then stop() stops
        # everything, so no postmaster or broker started meanwhile is left behind.
        if not supervising:
            raise KeyboardInterrupt
        if not sup.stop_requested:
            log(f"{signal.Signals(signum).name}: stopping …")
        sup.request_stop()

    # Started in the background from a script (`make run &`), a process inherits SIGINT as
    # ignored: Ctrl-C or `kill -INT` would then leave everything running. Always honour it.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if not os.environ.get("DATABASE_URL"):
            port = int(os.environ.get("LAWLINE_PG_PORT", "55432"))
            pg = EmbeddedPostgres(VAR / "pg", port)
            sup.start(postgres_child(pg))
            os.environ["DATABASE_URL"] = pg.url
            log(f"embedded PostgreSQL on 127.0.0.1:{port} (data in var/pg)")
        else:
            log("using DATABASE_URL from the environment")
        if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
            port = int(os.environ.get("LAWLINE_BROKER_PORT", "19092"))
            broker = EmbeddedBroker(port, log_path=VAR / "broker.log")
            sup.start(broker_child(broker))
            os.environ["KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap
            log(f"embedded Kafka-protocol broker (Tansu) on {broker.bootstrap}")
        else:
            log(f"using KAFKA_BOOTSTRAP_SERVERS={os.environ['KAFKA_BOOTSTRAP_SERVERS']}")
        asyncio.run(prepare_databases(os.environ["DATABASE_URL"]))
        log("databases migrated, demo network loaded")
        load_demo_history()

        supervising = True
        # SMS (services/intake/sms): the development provider's file, links to this console.
        os.environ.setdefault("LAWLINE_SMS_PUBLIC_BASE_URL", f"http://127.0.0.1:{service_port('console')}")
        for s in app_services():
            sup.start(service_child(s))
        for s in app_services():
            ok = wait_healthy(service_port(s), sup)
            if sup.stop_requested:
                break
            log(
                f"{s:<10} http://127.0.0.1:{service_port(s)}  docs: http://127.0.0.1:{service_port(s)}/docs"
                + ("" if ok else "  (NOT healthy yet)")
            )
        if not sup.stop_requested:
            log(f"SMS to citizens (development provider): {VAR / 'sms' / 'outbox.jsonl'}")
            log("ready — a part that dies is restarted; Ctrl-C stops everything")
        sup.run()
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        supervising = True  # a second Ctrl-C must not cut the shutdown short
        if not sup.stop_requested:
            log("stopping …")
        sup.stop()


if __name__ == "__main__":
    sys.exit(main())
