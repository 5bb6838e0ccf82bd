"""Signatures of deliveries: HMAC-SHA256 over `<unix timestamp>.<body>`, sent as
`X-Lawline-Signature: t=<unix>,v1=<hex>[,v1=<hex>]` (the scheme Stripe made familiar: the
timestamp inside the signed text lets a receiver refuse replays older than its tolerance; a
second v1 while a rotated-out secret is still in its grace period). Receivers: recompute with
each secret they hold, compare in constant time, check |now − t| ≤ 5 minutes."""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
HEADER = "X-Lawline-Signature"
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def header(secrets_: list[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={signature(s, timestamp, body)}" for s in secrets_)])


def verify(secret: str, value: str, body: bytes, *, now: int, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does (and the tests): any v1 matching, timestamp within tolerance."""
    parts = [p.partition("=") for p in value.split(",")]
    stamps = [v for k, _, v in parts if k.strip() == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit() or abs(now - int(stamps[0])) > tolerance:
        return False
    expected = signature(secret, int(stamps[0]), body)
    return any(k.strip() == "v1" and hmac.compare_digest(v, expected) for k, _, v in parts)
