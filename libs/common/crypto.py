"""Encryption of personal data at rest (PIPL Art 28, 51).

Resident ID numbers (and anything else the issue calls sensitive) are stored as
AES-256-GCM ciphertext with the key id in front, so keys can be rotated: new writes
use the current key, old rows still decrypt with their own key until re-encrypted.
Exact lookups use a keyed hash (HMAC-SHA256 "blind index"), never the plaintext.

Keys come from settings: LAWLINE_PII_KEYS="k2:<base64 32 bytes>,k1:<base64 32 bytes>"
(first = current) and LAWLINE_PII_INDEX_KEY=<base64>. The development defaults are
NOT secret and are refused when LAWLINE_ENV=production.

Rotation: `python -m libs.common.crypto new-key k2` → put it first in LAWLINE_PII_KEYS (old keys
after it), restart, then `python -m libs.common.crypto rotate <service> <table> <column>`;
drop the old key once that reports nothing left.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_DEV_KEY = base64.b64encode(hashlib.sha256(b"lawline-dev-pii-key").digest()).decode()
_DEV_INDEX = base64.b64encode(hashlib.sha256(b"lawline-dev-index-key").digest()).decode()


class PiiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LAWLINE_", extra="ignore")

    env: str = "development"
    pii_keys: str = f"dev1:{_DEV_KEY}"
    pii_index_key: str = _DEV_INDEX


class PiiCipher:
    def __init__(self, keys: str, index_key: str) -> None:
        self._keys: dict[str, AESGCM] = {}
        self.current = ""
        for i, item in enumerate(k.strip() for k in keys.split(",") if k.strip()):
            kid, _, b64 = item.partition(":")
            raw = base64.b64decode(b64)
            if len(raw) != 32:
                raise ValueError(f"PII key {kid} must be 32 bytes (base64)")
            self._keys[kid] = AESGCM(raw)
            if i == 0:
                self.current = kid
        if not self.current:
            raise ValueError("no PII key configured")
        self._index = base64.b64decode(index_key)

    def encrypt(self, plaintext: str | None) -> str | None:
        if plaintext is None:
            return None
        nonce = os.urandom(12)
        ct = self._keys[self.current].encrypt(nonce, plaintext.encode(), self.current.encode())
        return f"{self.current}:{base64.b64encode(nonce + ct).decode()}"

    def decrypt(self, token: str | None) -> str | None:
        if token is None:
            return None
        kid, _, b64 = token.partition(":")
        blob = base64.b64decode(b64)
        return self._keys[kid].decrypt(blob[:12], blob[12:], kid.encode()).decode()

    def needs_rotation(self, token: str | None) -> bool:
        return token is not None and not token.startswith(self.current + ":")

    def rotate(self, token: str | None) -> str | None:
        """Re-encrypt under the current key (for a background re-keying job)."""
        return self.encrypt(self.decrypt(token)) if self.needs_rotation(token) else token

    def blind_index(self, value: str | None) -> str | None:
        """Keyed hash for exact-match lookups (normalise the value before calling)."""
        if value is None:
            return None
        return hmac.new(self._index, value.strip().upper().encode(), hashlib.sha256).hexdigest()


@lru_cache
def get_cipher() -> PiiCipher:
    s = PiiSettings()
    if s.env == "production" and (s.pii_keys.endswith(_DEV_KEY) or s.pii_index_key == _DEV_INDEX):
        raise RuntimeError("refusing to run in production with the development PII keys")
    return PiiCipher(s.pii_keys, s.pii_index_key)


_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def new_key_spec(kid: str) -> str:
    """A fresh `kid:<base64 32 bytes>` to put FIRST in LAWLINE_PII_KEYS (keep the old ones after it)."""
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode()}"


async def rotate_column(
    session: AsyncSession,
    *,
    table: str,
    column: str,
    id_column: str = "id",
    cipher: PiiCipher | None = None,
    batch: int = 500,
) -> int:
    """Re-encrypt every value of `table.column` not yet under the current key, in batches.

    Safe while the service runs (rows are locked per batch, SKIP LOCKED) and resumable: the
    old key must stay configured (after the new one) until this returns 0 work left.
    The caller owns the transaction; the CLI commits per batch."""
    if not all(_IDENT.match(x) for x in (table, column, id_column)):
        raise ValueError("table and column names must be plain identifiers")
    c = cipher or get_cipher()
    rows = (
        await session.execute(
            text(
                f"SELECT {id_column} AS id, {column} AS v FROM {table} "
                f"WHERE {column} IS NOT NULL AND {column} NOT LIKE :current "
                f"ORDER BY {id_column} LIMIT :batch FOR UPDATE SKIP LOCKED"
            ),
            {"current": f"{c.current}:%", "batch": batch},
        )
    ).all()
    for row in rows:
        await session.execute(
            text(f"UPDATE {table} SET {column} = :v WHERE {id_column} = :id"),
            {"v": c.rotate(row.v), "id": row.id},
        )
    return len(rows)


def _main(argv: list[str] | None = None) -> int:
    import argparse
    import asyncio

    parser = argparse.ArgumentParser(prog="python -m libs.common.crypto")
    sub = parser.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("new-key", help="print a new key spec for LAWLINE_PII_KEYS")
    k.add_argument("kid")
    r = sub.add_parser("rotate", help="re-encrypt a column under the current (first) key")
    r.add_argument("service")
    r.add_argument("table")
    r.add_argument("column")
    r.add_argument("--id-column", default="id")
    r.add_argument("--url", help="database URL (default: the service's configured database)")
    args = parser.parse_args(argv)
    if args.cmd == "new-key":
        print(new_key_spec(args.kid))
        return 0

    async def run() -> int:
        from libs.common.config import service_database_url
        from libs.common.db import make_engine, make_sessionmaker

        engine = make_engine(args.url or service_database_url(args.service), pool_size=1)
        total = 0
        try:
            while True:
                async with make_sessionmaker(engine)() as session, session.begin():
                    n = await rotate_column(
                        session, table=args.table, column=args.column, id_column=args.id_column
                    )
                total += n
                if n == 0:
                    return total
        finally:
            await engine.dispose()

    print(f"re-encrypted {asyncio.run(run())} values under key {get_cipher().current}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
