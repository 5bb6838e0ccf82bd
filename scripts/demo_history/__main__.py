"""`python -m scripts.demo_history [--days 30] [--per-day 15]`: load the demo history into the
databases DATABASE_URL names (each service's own, as `make run` makes them) and the broker
KAFKA_BOOTSTRAP_SERVERS names, unless intake already holds orders. Stop `make run` first."""

from __future__ import annotations

import argparse
import asyncio
import os

from libs.common.config import SERVICES, service_database_url
from scripts.demo_history import load_if_empty


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--per-day", type=int, default=15)
    args = p.parse_args()
    urls = {s: service_database_url(s) for s in SERVICES}
    out = asyncio.run(
        load_if_empty(urls, os.environ["KAFKA_BOOTSTRAP_SERVERS"], days=args.days, per_day=args.per_day)
    )
    print(out.line)


if __name__ == "__main__":
    main()
