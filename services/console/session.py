"""The console session: an encrypted, httponly cookie (AES-GCM) holding the user's tokens.

Why a cookie and not a server-side store: the console stays stateless, so any replica can
serve any request; AES-GCM makes the tokens unreadable and tamper-evident to the browser
(JavaScript cannot read it at all: httponly). CSRF: every session carries a random token
that each POST must echo (form field or X-CSRF-Token header from htmx) — plus SameSite=Lax.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import Request, Response

COOKIE = "lawline_console"
PENDING_CHANGE_SECONDS = 600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass
class Session:
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    lang: str = "zh"
    access_token: str | None = None
    refresh_token: str | None = None
    access_expires: float = 0.0
    user: dict[str, Any] = field(default_factory=dict)
    issued: float = field(default_factory=time.time)
    flash: str | None = None
    # Between a login refused with "set a new password first" and that change: the username and
    # the temporary password just typed, so the person is not asked for it twice. Encrypted like
    # the tokens, and dropped after PENDING_CHANGE_SECONDS or the change.
    pending_change: dict[str, Any] = field(default_factory=dict)

    @property
    def logged_in(self) -> bool:
        return bool(self.access_token and self.user)

    @property
    def roles(self) -> list[str]:
        return list(self.user.get("roles") or [])

    def has_role(self, *roles: str) -> bool:
        return bool(set(self.roles) & set(roles))


class SessionCodec:
    def __init__(self, secret: str, max_age_seconds: int):
        self._aead = AESGCM(hashlib.sha256(secret.encode()).digest())
        self.max_age = max_age_seconds

    def encode(self, s: Session) -> str:
        nonce = os.urandom(12)
        raw = json.dumps(asdict(s), separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(nonce + self._aead.encrypt(nonce, raw, b"console")).decode()

    def decode(self, value: str | None) -> Session | None:
        if not value:
            return None
        try:
            blob = base64.urlsafe_b64decode(value.encode())
            data = json.loads(self._aead.decrypt(blob[:12], blob[12:], b"console"))
            s = Session(**data)
        except (ValueError, InvalidTag, TypeError):
            return None  # tampered, from an old key, or malformed: start afresh
        if time.time() - s.issued > self.max_age:
            return Session(lang=s.lang)
        return s


def load(request: Request) -> Session:
    codec: SessionCodec = request.app.state.codec
    s = getattr(request.state, "session", None)
    if s is None:
        s = codec.decode(request.cookies.get(COOKIE)) or Session()
        request.state.session = s
    return s


def save(request: Request, response: Response, s: Session) -> None:
    settings = request.app.state.settings
    response.set_cookie(
        COOKIE,
        request.app.state.codec.encode(s),
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookie,
        path="/",
    )


def csrf_ok(s: Session, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(s.csrf, submitted or "")
