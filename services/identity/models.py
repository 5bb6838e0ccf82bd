"""Identity's tables: staff accounts, its copy of dispatch's staff, refresh tokens (hashed),
API keys (hashed), outbox, inbox."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.common.inbox import inbox_table
from libs.common.outbox import outbox_table


class IdentityBase(DeclarativeBase):
    """This service's own MetaData: one database per service."""


metadata = IdentityBase.metadata


class Account(IdentityBase):
    """A login. Linked to a dispatch staff member (`staff_id`) it follows that person: name,
    the roles their dispatch role grants, the jurisdiction of their service point, disabled
    with them (staff_link.py). `staff_role` / `staff_region` are what the link last derived,
    so an admin's own changes survive until the person really changes in dispatch."""

    __tablename__ = "accounts"
    __table_args__ = (Index("ix_accounts_roles", "roles", postgresql_using="gin"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # argon2id, never the password; "!" = no password yet (an account made from a staff record
    # until an admin resets it): no argon2 hash matches it.
    password_hash: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(100))
    roles: Mapped[list] = mapped_column(JSONB)
    region: Mapped[str] = mapped_column(String(12), index=True)  # jurisdiction prefix
    staff_id: Mapped[str | None] = mapped_column(String(36), index=True)  # dispatch staff id
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    staff_code: Mapped[str | None] = mapped_column(String(32))
    staff_role: Mapped[str | None] = mapped_column(String(24))
    staff_region: Mapped[str | None] = mapped_column(String(12))
    staff_as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A temporary password (admin reset, new account) must be replaced at the next login.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    password_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_reason: Mapped[str | None] = mapped_column(String(20))  # staff_inactive | admin
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StaffMember(IdentityBase):
    """Identity's copy of dispatch's staff records (dispatch.staff_changed; the demo seed): what
    an admin links an account to, and what an account made from a staff record starts from."""

    __tablename__ = "staff_members"

    staff_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(24))
    service_point_id: Mapped[str] = mapped_column(String(36))
    service_point_name: Mapped[str] = mapped_column(String(100))
    tier: Mapped[str] = mapped_column(String(12))
    county_code: Mapped[str | None] = mapped_column(String(6))
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    active: Mapped[bool] = mapped_column(Boolean)
    as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RefreshToken(IdentityBase):
    """Opaque, rotating: each use replaces it; a second use of a spent token revokes its family."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The access token issued with it: disabling the account revokes that one too, everywhere.
    access_jti: Mapped[str | None] = mapped_column(String(64))
    access_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiKey(IdentityBase):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # the key id shown in the key itself
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[list] = mapped_column(JSONB)
    region: Mapped[str] = mapped_column(String(12), index=True)
    rate_limit: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RevokedToken(IdentityBase):
    """An access token revoked before it expired (logout), until it expires: the source of the
    revocations announced again after a broker lost its data (service.announce_credentials)."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    revoked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
