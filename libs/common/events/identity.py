"""Events produced by the identity service. A published version is never edited: add …V2.

Other services fold the key and revocation events into an in-process credential cache
(libs/common/apikeys.py); they carry hashes only, never a key or a token.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from libs.common.events import topics
from libs.common.events.payload import EventPayload

SOURCE = "/lawline/identity"


class IdentityEvent(EventPayload):
    """A payload identity produces, on the identity topic."""

    SOURCE = SOURCE
    TOPIC = topics.IDENTITY


API_KEY_CREATED = "cn.lawline.identity.apikey_created.v1"
API_KEY_REVOKED = "cn.lawline.identity.apikey_revoked.v1"
# v2 (issue #17): v1's `account_id` held the username, unlike every other `*_id`.
TOKEN_REVOKED = "cn.lawline.identity.token_revoked.v2"
TOKEN_REVOKED_V1 = "cn.lawline.identity.token_revoked.v1"  # deprecated: still accepted, no longer sent
TOKEN_REVOKED_TYPES = (TOKEN_REVOKED, TOKEN_REVOKED_V1)
SESSION_STARTED = "cn.lawline.identity.session_started.v1"
CREDENTIALS_SNAPSHOT = "cn.lawline.identity.credentials_snapshot.v1"


_KEY_HASH = "9f2c4be1d0a87e6b5c3f1a2d4e6b8c0a1f3e5d7c9b2a4e6f8d0c2b4a6e8f0d1c"


class ApiKeyCreatedV1(IdentityEvent):
    """An admin made an API key for an external system: services accept it from now on (hash only)."""

    TYPE = API_KEY_CREATED

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "key_id": "3fa94c0e12ab",
                    "key_hash": _KEY_HASH,
                    "name": "市12345政务服务热线平台",
                    "scopes": ["workorders:write"],
                    "region": "1404",
                    "rate_limit": "120/minute",
                    "created_by": "admin_1404",
                    "created_at": "2026-03-02T01:30:00Z",
                }
            ]
        }
    )

    key_id: str  # 12 hex digits (not a UUID): the middle part of `llk_<key id>_<secret>`
    key_hash: str  # SHA-256 of the whole key (keys are 256-bit random: no salt needed)
    name: str
    scopes: list[str]
    region: str  # the key's jurisdiction: a region-code prefix
    rate_limit: str  # `limits` notation, e.g. "120/minute"
    created_by: str  # the admin's username
    created_at: datetime


class ApiKeyRevokedV1(IdentityEvent):
    """An API key was revoked: refused everywhere from now on, whatever arrives later."""

    TYPE = API_KEY_REVOKED

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"key_id": "3fa94c0e12ab", "revoked_by": "admin_1404", "revoked_at": "2026-03-09T08:00:00Z"}
            ]
        }
    )

    key_id: str
    revoked_by: str  # the admin's username
    revoked_at: datetime


class TokenRevokedV1(IdentityEvent):
    """Deprecated (sent until issue #17; use TokenRevokedV2): an access token revoked before it
    expires. `account_id` here is the account's USERNAME, not its id."""

    TYPE = TOKEN_REVOKED_V1

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "jti": "5b1f0c7e9a2d4e6f8b0c1d2e3f4a5b6c",
                    "account_id": "counter_140430",
                    "expires_at": "2026-03-02T02:15:00Z",
                }
            ]
        }
    )

    jti: str
    account_id: str  # the username (the V1 mistake V2 corrects)
    expires_at: datetime


class TokenRevokedV2(IdentityEvent):
    """An access token revoked before it expires (logout, sessions ended by an admin): services
    refuse its jti until `expires_at`."""

    TYPE = TOKEN_REVOKED

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "jti": "5b1f0c7e9a2d4e6f8b0c1d2e3f4a5b6c",
                    "account_id": "8d3f6a2e-4b1c-4e8f-9a7d-2c5b0e1f3a64",
                    "username": "counter_140430",
                    "expires_at": "2026-03-02T02:15:00Z",
                }
            ]
        }
    )

    jti: str  # the token's JWT id (32 hex digits)
    # The account's id (UUID); null only for a token whose subject has no account here (one
    # issued by another identity provider and logged out through us).
    account_id: str | None
    username: str  # the token's subject (login name)
    expires_at: datetime


class SessionStartedV1(IdentityEvent):
    """Someone logged in (for audit and live counts); not used for authorisation."""

    TYPE = SESSION_STARTED

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "account_id": "8d3f6a2e-4b1c-4e8f-9a7d-2c5b0e1f3a64",
                    "username": "counter_140430",
                    "roles": ["counter_staff"],
                    "region": "140430",
                    "at": "2026-03-02T02:00:00Z",
                }
            ]
        }
    )

    account_id: str  # the account's id (UUID)
    username: str
    roles: list[str]
    region: str  # the account's jurisdiction: a region-code prefix
    at: datetime


class SnapshotKeyV1(BaseModel):
    key_id: str
    key_hash: str
    name: str
    scopes: list[str]
    region: str
    rate_limit: str


class SnapshotRevocationV1(BaseModel):
    jti: str
    expires_at: datetime


class CredentialsSnapshotV1(IdentityEvent):
    """Identity's credential state, read from its own database and announced again at its
    start-up and whenever the broker lost its data, so no cache depends on the broker having
    kept every event: the live keys (hashes only), the keys revoked, and the access tokens
    revoked and not yet expired. Large states come in pages (`page` of `pages`, one
    `snapshot_id`); each page stands on its own — applying it only ever adds what it lists,
    and a revoked key stays revoked whatever arrives after."""

    TYPE = CREDENTIALS_SNAPSHOT

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "snapshot_id": "0c9e7a5b3d1f4e2a8b6c4d2e0f1a3b5c",
                    "page": 1,
                    "pages": 1,
                    "taken_at": "2026-03-02T00:00:05Z",
                    "keys": [
                        {
                            "key_id": "3fa94c0e12ab",
                            "key_hash": _KEY_HASH,
                            "name": "市12345政务服务热线平台",
                            "scopes": ["workorders:write"],
                            "region": "1404",
                            "rate_limit": "120/minute",
                        }
                    ],
                    "revoked_key_ids": ["7d21e08b44c9"],
                    "revoked_tokens": [
                        {"jti": "5b1f0c7e9a2d4e6f8b0c1d2e3f4a5b6c", "expires_at": "2026-03-02T02:15:00Z"}
                    ],
                }
            ]
        }
    )

    snapshot_id: str
    page: int
    pages: int
    taken_at: datetime
    keys: list[SnapshotKeyV1]
    revoked_key_ids: list[str]
    revoked_tokens: list[SnapshotRevocationV1]
