"""`python -m services.aid.uploads rotate [--url URL]`: re-encrypt the stored documents' chunks under
the current PII key (after putting a new key first in LAWLINE_PII_KEYS), one batch per commit."""

from __future__ import annotations

import argparse
import asyncio

from libs.common.config import service_database_url
from libs.common.crypto import get_cipher
from libs.common.db import make_engine, make_sessionmaker
from services.aid.uploads.store import rotate_chunks


async def _rotate(url: str) -> int:
    engine = make_engine(url, pool_size=1)
    total = 0
    try:
        while True:
            async with make_sessionmaker(engine)() as session, session.begin():
                n = await rotate_chunks(session)
            total += n
            if n == 0:
                return total
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.aid.uploads")
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("rotate", help="re-encrypt document chunks under the current (first) key")
    r.add_argument("--url", help="database URL (default: the aid service's configured database)")
    args = parser.parse_args(argv)
    n = asyncio.run(_rotate(args.url or service_database_url("aid")))
    print(f"re-encrypted {n} document chunks under key {get_cipher().current}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
