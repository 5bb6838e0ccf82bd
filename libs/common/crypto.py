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

国密 (GB/T 39786-2021, LAWLINE_CRYPTO=sm): writes use SM4-GCM under the first key of
LAWLINE_PII_SM4_KEYS ("s1:<base64 16 bytes>", `new-key --sm4 s1`), the blind index is HMAC-SM3
and the audit chain hashes with SM3 (libs.common.audit.chain). A token names its algorithm and
key: "k1:<b64>" is AES-256-GCM (the format from before, unchanged), "sm4:s1:<b64>" SM4-GCM, so
reads take both whatever the mode and switching never strands a row; `rotate` moves old rows
into the current mode (with `--index-column`, recomputing their blind index too). An HMAC-SM3
index cannot be told from an HMAC-SHA256 one, so lookups match either (`lookup_indexes`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_DEV_KEY = base64.b64encode(hashlib.sha256(b"lawline-dev-pii-key").digest()).decode()
_DEV_INDEX = base64.b64encode(hashlib.sha256(b"lawline-dev-index-key").digest()).decode()


_DEV_SM4_KEY = base64.b64encode(hashlib.sha256(b"lawline-dev-sm4-key").digest()[:16]).decode()

SM4 = "sm4"  # algorithm tag in front of an SM4-GCM token's key id; AES tokens carry none
MODES = ("aes", "sm")


class PiiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LAWLINE_", extra="ignore")

    env: str = "development"
    # "aes": AES-256-GCM / HMAC-SHA256 / SHA-256 (the default); "sm": SM4-GCM / HMAC-SM3 / SM3.
    crypto: str = "aes"
    pii_keys: str = f"dev1:{_DEV_KEY}"
    # SM4 keys (16 bytes), first = current in sm mode. Empty: the development key (development only).
    pii_sm4_keys: str = ""
    pii_index_key: str = _DEV_INDEX


class _Sm4Gcm:
    """SM4-GCM (GB/T 32907 block cipher, NIST SP 800-38D mode) with the AESGCM interface:
    ciphertext || 16-byte tag. `cryptography` has no AEAD class for SM4, so the Cipher API;
    the algorithm object is built once per key, only the per-nonce context per call."""

    __slots__ = ("_alg",)

    def __init__(self, key: bytes) -> None:
        self._alg = algorithms.SM4(key)

    def encrypt(self, nonce: bytes, data: bytes, aad: bytes) -> bytes:
        enc = Cipher(self._alg, modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        return enc.update(data) + enc.finalize() + enc.tag

    def decrypt(self, nonce: bytes, data: bytes, aad: bytes) -> bytes:
        if len(data) < 16:
            raise InvalidTag()
        dec = Cipher(self._alg, modes.GCM(nonce, data[-16:])).decryptor()
        dec.authenticate_additional_data(aad)
        return dec.update(data[:-16]) + dec.finalize()  # InvalidTag on a wrong key or any change


def _key_specs(keys: str) -> list[tuple[str, bytes]]:
    out = []
    for item in (k.strip() for k in keys.split(",") if k.strip()):
        kid, _, b64 = item.partition(":")
        out.append((kid, base64.b64decode(b64)))
    return out


class PiiCipher:
    """Keys of both algorithms are loaded, so every stored token decrypts whatever the mode;
    `current` is the reference new writes use: "k1" (AES) or "sm4:s1" (SM4). It is also what
    a token starts with ("<current>:<b64>") and what `encrypt_bytes` returns as the key id."""

    def __init__(self, keys: str, index_key: str, *, mode: str = "aes", sm4_keys: str = "") -> None:
        if mode not in MODES:
            raise ValueError(f"LAWLINE_CRYPTO must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        self._keys: dict[str, AESGCM | _Sm4Gcm] = {}
        aes = _key_specs(keys)
        for kid, raw in aes:
            if len(raw) != 32:
                raise ValueError(f"PII key {kid} must be 32 bytes (base64)")
            self._keys[kid] = AESGCM(raw)
        sm4 = _key_specs(sm4_keys)
        for kid, raw in sm4:
            if len(raw) != 16:
                raise ValueError(f"SM4 key {kid} must be 16 bytes (base64)")
            self._keys[f"{SM4}:{kid}"] = _Sm4Gcm(raw)
        first = (f"{SM4}:{sm4[0][0]}" if sm4 else "") if mode == "sm" else (aes[0][0] if aes else "")
        if not first:
            raise ValueError(f"no {'SM4' if mode == 'sm' else 'PII'} key configured")
        self.current = first
        self._index = base64.b64decode(index_key)
        # HMAC-SM3 (GB/T 32905 hash in RFC 2104 HMAC) in sm mode, HMAC-SHA256 otherwise.
        self._index_digest, self._other_digest = ("sm3", "sha256") if mode == "sm" else ("sha256", "sm3")

    def _key(self, ref: str) -> AESGCM | _Sm4Gcm:
        try:
            return self._keys[ref]
        except KeyError:
            raise KeyError(f"PII key {ref!r} is not configured (keep old keys until rotated)") from None

    def encrypt(self, plaintext: str | None) -> str | None:
        if plaintext is None:
            return None
        nonce = os.urandom(12)
        ct = self._keys[self.current].encrypt(nonce, plaintext.encode(), self.current.encode())
        return f"{self.current}:{base64.b64encode(nonce + ct).decode()}"

    def decrypt(self, token: str | None) -> str | None:
        if token is None:
            return None
        # base64 has no ":", so the last one ends the key reference ("k1" or "sm4:s1"); the
        # reference is the associated data, so a token relabelled to another key or algorithm fails.
        ref, _, b64 = token.rpartition(":")
        blob = base64.b64decode(b64)
        return self._key(ref).decrypt(blob[:12], blob[12:], ref.encode()).decode()

    def encrypt_bytes(self, data: bytes, aad: bytes) -> tuple[str, bytes]:
        """Binary content (a scanned ID card, a chunk of it): (key id, nonce + ciphertext). `aad`
        names where the bytes belong (document + chunk number), so a chunk moved elsewhere fails."""
        nonce = os.urandom(12)
        kid = self.current
        return kid, nonce + self._keys[kid].encrypt(nonce, data, kid.encode() + b"|" + aad)

    def decrypt_bytes(self, kid: str, blob: bytes, aad: bytes) -> bytes:
        return self._key(kid).decrypt(blob[:12], blob[12:], kid.encode() + b"|" + aad)

    def needs_rotation(self, token: str | None) -> bool:
        return token is not None and not token.startswith(self.current + ":")

    def rotate(self, token: str | None) -> str | None:
        """Re-encrypt under the current key (for a background re-keying job)."""
        return self.encrypt(self.decrypt(token)) if self.needs_rotation(token) else token

    def blind_index(self, value: str | None) -> str | None:
        """Keyed hash for exact-match lookups (normalise the value before calling)."""
        if value is None:
            return None
        return hmac.digest(self._index, value.strip().upper().encode(), self._index_digest).hex()

    def lookup_indexes(self, value: str | None) -> tuple[str, ...]:
        """What a stored index of `value` may be: the current algorithm's and the other one's
        (rows indexed before a switch, until `rotate --index-column` recomputes them; index-only
        columns keep theirs). Use with IN (…): one round trip, and a false match between the two
        would need a 256-bit collision."""
        if value is None:
            return ()
        msg = value.strip().upper().encode()
        return (
            hmac.digest(self._index, msg, self._index_digest).hex(),
            hmac.digest(self._index, msg, self._other_digest).hex(),
        )


@lru_cache
def get_cipher() -> PiiCipher:
    s = PiiSettings()
    prod = s.env == "production"
    if prod and (s.pii_keys.endswith(_DEV_KEY) or s.pii_index_key == _DEV_INDEX):
        raise RuntimeError("refusing to run in production with the development PII keys")
    sm4_keys = s.pii_sm4_keys
    if s.crypto == "sm" and not sm4_keys:
        if prod:
            raise RuntimeError("LAWLINE_CRYPTO=sm needs LAWLINE_PII_SM4_KEYS in production")
        sm4_keys = f"sdev1:{_DEV_SM4_KEY}"
    if prod and _DEV_SM4_KEY in sm4_keys:
        raise RuntimeError("refusing to run in production with the development SM4 key")
    return PiiCipher(s.pii_keys, s.pii_index_key, mode=s.crypto, sm4_keys=sm4_keys)


@lru_cache
def crypto_mode() -> str:
    """LAWLINE_CRYPTO without needing the keys (the audit chain runs in every service)."""
    mode = PiiSettings().crypto
    if mode not in MODES:
        raise ValueError(f"LAWLINE_CRYPTO must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def new_key_spec(kid: str, *, sm4: bool = False) -> str:
    """A fresh `kid:<base64 32 bytes>` to put FIRST in LAWLINE_PII_KEYS (keep the old ones after it);
    `sm4`: `kid:<base64 16 bytes>` for LAWLINE_PII_SM4_KEYS."""
    return f"{kid}:{base64.b64encode(os.urandom(16 if sm4 else 32)).decode()}"


async def rotate_column(
    session: AsyncSession,
    *,
    table: str,
    column: str,
    id_column: str = "id",
    index_column: str | None = None,
    cipher: PiiCipher | None = None,
    batch: int = 500,
) -> int:
    """Re-encrypt every value of `table.column` not yet under the current key, in batches.
    `index_column`: the blind index of the same value, recomputed with the current algorithm in
    the same UPDATE (the AES → SM migration: HMAC-SHA256 → HMAC-SM3 with the SM4 ciphertext).

    Safe while the service runs (rows are locked per batch, SKIP LOCKED) and resumable: the
    old key must stay configured (after the new one) until this returns 0 work left.
    The caller owns the transaction; the CLI commits per batch."""
    if not all(_IDENT.match(x) for x in (table, column, id_column, index_column or "x")):
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
    if not rows:
        return 0
    # One executemany per batch, not a round trip per row.
    if index_column:
        plain = [(row.id, c.decrypt(row.v)) for row in rows]
        await session.execute(
            text(f"UPDATE {table} SET {column} = :v, {index_column} = :ix WHERE {id_column} = :id"),
            [{"v": c.encrypt(p), "ix": c.blind_index(p), "id": i} for i, p in plain],
        )
    else:
        await session.execute(
            text(f"UPDATE {table} SET {column} = :v WHERE {id_column} = :id"),
            [{"v": c.rotate(row.v), "id": row.id} for row in rows],
        )
    return len(rows)


def _main(argv: list[str] | None = None) -> int:
    import argparse
    import asyncio

    parser = argparse.ArgumentParser(prog="python -m libs.common.crypto")
    sub = parser.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("new-key", help="print a new key spec for LAWLINE_PII_KEYS")
    k.add_argument("kid")
    k.add_argument("--sm4", action="store_true", help="a 16-byte SM4 key for LAWLINE_PII_SM4_KEYS")
    r = sub.add_parser("rotate", help="re-encrypt a column under the current (first) key")
    r.add_argument("service")
    r.add_argument("table")
    r.add_argument("column")
    r.add_argument("--id-column", default="id")
    r.add_argument("--index-column", help="the value's blind index column, recomputed (AES <-> SM switch)")
    r.add_argument("--url", help="database URL (default: the service's configured database)")
    args = parser.parse_args(argv)
    if args.cmd == "new-key":
        print(new_key_spec(args.kid, sm4=args.sm4))
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
                        session,
                        table=args.table,
                        column=args.column,
                        id_column=args.id_column,
                        index_column=args.index_column,
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
