"""`make run`: the whole system on one machine.

Starts an embedded PostgreSQL (data under ./var/pg) and the embedded Kafka-protocol
broker unless DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS name real ones, creates one
database per service, migrates, loads the demo network, starts every service with
uvicorn and stops all of it on Ctrl-C — no orphan postgres or broker.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from libs.common.config import SERVICES, service_database_url, service_port
from libs.common.embedded import EmbeddedBroker, EmbeddedPostgres, create_database
from libs.common.migrate import upgrade

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


def wait_healthy(port: int, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def main() -> int:
    VAR.mkdir(exist_ok=True)
    pg: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None
    children: list[subprocess.Popen] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        log("stopping …")
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
        if broker:
            broker.stop()
            log("broker stopped")
        if pg:
            pg.stop()
            log("postgres stopped")

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    # Started in the background from a script (`make run &`), a process inherits SIGINT as
    # ignored: Ctrl-C or `kill -INT` would then leave everything running. Always honour it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if not os.environ.get("DATABASE_URL"):
            port = int(os.environ.get("LAWLINE_PG_PORT", "55432"))
            pg = EmbeddedPostgres(VAR / "pg", port).start()
            os.environ["DATABASE_URL"] = pg.url
            log(f"embedded PostgreSQL on 127.0.0.1:{port} (data in var/pg)")
        else:
            log("using DATABASE_URL from the environment")
        if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
            port = int(os.environ.get("LAWLINE_BROKER_PORT", "19092"))
            broker = EmbeddedBroker(port, log_path=VAR / "broker.log").start()
            os.environ["KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap
            log(f"embedded Kafka-protocol broker (Tansu) on {broker.bootstrap}")
        else:
            log(f"using KAFKA_BOOTSTRAP_SERVERS={os.environ['KAFKA_BOOTSTRAP_SERVERS']}")
        asyncio.run(prepare_databases(os.environ["DATABASE_URL"]))
        log("databases migrated, demo network loaded")

        for s in app_services():
            port = service_port(s)
            cmd = [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                f"services.{s}.main:create_app",
                "--host",
                os.environ.get("LAWLINE_HOST", "127.0.0.1"),
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
            ]
            children.append(subprocess.Popen(cmd, cwd=ROOT))
        for s in app_services():
            ok = wait_healthy(service_port(s))
            log(
                f"{s:<10} http://127.0.0.1:{service_port(s)}  docs: http://127.0.0.1:{service_port(s)}/docs"
                + ("" if ok else "  (NOT healthy yet)")
            )
        log("ready — Ctrl-C stops everything")
        while all(c.poll() is None for c in children):
            time.sleep(0.5)
        log("a service exited; shutting down")
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
