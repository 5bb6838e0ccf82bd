"""Events produced by the identity service. A published version is never edited: add …V2.

Other services fold the key and revocation events into an in-process credential cache
(libs/common/apikeys.py); they carry hashes only, never a key or a token.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

SOURCE = "/lawline/identity"
API_KEY_CREATED = "cn.lawline.identity.apikey_created.v1"
API_KEY_REVOKED = "cn.lawline.identity.apikey_revoked.v1"
TOKEN_REVOKED = "cn.lawline.identity.token_revoked.v1"
SESSION_STARTED = "cn.lawline.identity.session_started.v1"
CREDENTIALS_SNAPSHOT = "cn.lawline.identity.credentials_snapshot.v1"


class ApiKeyCreatedV1(BaseModel):
    key_id: str
    key_hash: str  # SHA-256 of the whole key (keys are 256-bit random: no salt needed)
    name: str
    scopes: list[str]
    region: str
    rate_limit: str  # `limits` notation, e.g. "120/minute"
    created_by: str
    created_at: datetime


class ApiKeyRevokedV1(BaseModel):
    key_id: str
    revoked_by: str
    revoked_at: datetime


class TokenRevokedV1(BaseModel):
    """An access token revoked before it expires (logout): services refuse its jti until `expires_at`."""

    jti: str
    account_id: str
    expires_at: datetime


class SessionStartedV1(BaseModel):
    account_id: str
    username: str
    roles: list[str]
    region: str
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


class CredentialsSnapshotV1(BaseModel):
    """Identity's credential state, read from its own database and announced again at its
    start-up and whenever the broker lost its data, so no cache depends on the broker having
    kept every event: the live keys (hashes only), the keys revoked, and the access tokens
    revoked and not yet expired. Large states come in pages (`page` of `pages`, one
    `snapshot_id`); each page stands on its own — applying it only ever adds what it lists,
    and a revoked key stays revoked whatever arrives after."""

    snapshot_id: str
    page: int
    pages: int
    taken_at: datetime
    keys: list[SnapshotKeyV1]
    revoked_key_ids: list[str]
    revoked_tokens: list[SnapshotRevocationV1]
