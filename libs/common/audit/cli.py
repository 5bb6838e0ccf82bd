"""`python -m libs.common.audit verify <service>|all [--url URL]`: exit 1 on a broken chain."""

from __future__ import annotations

import argparse
import asyncio

import orjson

from libs.common.audit.chain import Verification, verify
from libs.common.config import SERVICES, service_database_url
from libs.common.db import make_engine, make_sessionmaker


async def verify_database(url: str) -> Verification:
    engine = make_engine(url, pool_size=1)
    try:
        # The CLI owns the transaction: the entries verify links first are kept.
        async with make_sessionmaker(engine)() as session, session.begin():
            return await verify(session)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m libs.common.audit")
    sub = parser.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify", help="check audit chains; exit 1 if any is broken")
    v.add_argument("service", help="a service name, or 'all'")
    v.add_argument("--url", help="database URL (default: the service's configured database)")
    args = parser.parse_args(argv)
    names = list(SERVICES) if args.service == "all" else [args.service]
    ok = True
    for name in names:
        outcome = asyncio.run(verify_database(args.url or service_database_url(name)))
        ok &= outcome.ok
        print(orjson.dumps({"service": name, **outcome.as_dict()}).decode())
    return 0 if ok else 1
