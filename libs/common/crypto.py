"""Encryption of personal data at rest (PIPL Art 28, 51).

Resident ID numbers (and anything else the issue calls sensitive) are stored as
AES-256-GCM ciphertext with the key id in front, so keys can be rotated: new writes
use the current key, old rows still decrypt with their own key until re-encrypted.
Exact lookups use a keyed hash (HMAC-SHA256 "blind index"), never the plaintext.

Keys come from settings: LAWLINE_PII_KEYS="k2:<base64 32 bytes>,k1:<base64 32 bytes>"
(first = current) and LAWLINE_PII_INDEX_KEY=<base64>. The development defaults are
NOT secret and are refused when LAWLINE_ENV=production.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic_settings import BaseSettings, SettingsConfigDict

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
