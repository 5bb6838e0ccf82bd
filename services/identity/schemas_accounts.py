"""Request and response models of account administration and the password change."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator, model_validator

from libs.common.bilingual import Text
from libs.common.openapi_examples import examples
from libs.common.patching import PatchModel
from services.identity import domain
from services.identity import examples as ex

USERNAME = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$"
Region = Annotated[str, Field(min_length=2, max_length=12, pattern=r"^\d+$", description="管辖区划前缀")]
# A closed list (domain.ASSIGNABLE_ROLES): the schema names it, check_roles keeps refusing others.
Role = Annotated[str, WithJsonSchema({"type": "string", "enum": list(domain.ASSIGNABLE_ROLES)})]
# Why an account is inactive (domain.py: its staff record was deactivated; accounts.py: an admin).
DISABLED_REASONS = ("staff_inactive", "admin")
DisabledReason = Annotated[str, WithJsonSchema({"type": "string", "enum": list(DISABLED_REASONS)})]
StaffId = Annotated[str, Field(min_length=36, max_length=36, description="dispatch 人员 id（UUID）")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _roles(v: list[str]) -> list[str]:
    return domain.check_roles(v)


class AccountCreate(_In):
    model_config = ConfigDict(json_schema_extra=examples(ex.ACCOUNT_CREATE))

    username: str = Field(pattern=USERNAME, examples=["S00913"], description="字母或数字开头，2–64 位")
    name: str = Field(min_length=1, max_length=100, examples=["王伟"])
    roles: list[Role] = Field(default_factory=list, max_length=8, examples=[["counter_staff"]])
    region: Region | None = Field(None, description="关联工作人员时取其服务点所在区县")
    staff_id: StaffId | None = None

    @field_validator("roles")
    @classmethod
    def _r(cls, v: list[str]) -> list[str]:
        return _roles(v)

    @field_validator("staff_id")
    @classmethod
    def _uuid(cls, v: str | None) -> str | None:
        return str(uuid.UUID(v)) if v else None

    @model_validator(mode="after")
    def _unlinked_needs_roles_and_region(self) -> AccountCreate:
        if self.staff_id is None and not self.roles:
            raise Text("未关联工作人员的账号须至少选择一个角色", "choose at least one role").error()
        if self.staff_id is None and not self.region:
            raise Text("未关联工作人员的账号须选择辖区", "choose a jurisdiction").error()
        return self


class AccountPatch(PatchModel, _In):
    model_config = ConfigDict(json_schema_extra=examples(ex.ACCOUNT_PATCH))

    name: str | None = Field(None, min_length=1, max_length=100)
    roles: list[Role] | None = Field(None, min_length=1, max_length=8)
    region: Region | None = None

    @field_validator("roles")
    @classmethod
    def _r(cls, v: list[str] | None) -> list[str] | None:
        return _roles(v) if v is not None else None


class DisableIn(_In):
    model_config = ConfigDict(json_schema_extra=examples({"note": "已调离潞州区公共法律服务中心"}))

    note: str = Field("", max_length=200, description="停用原因（记入审计）")


class LinkIn(_In):
    model_config = ConfigDict(json_schema_extra=examples({"staff_id": ex.STAFF_ID}))

    staff_id: StaffId

    @field_validator("staff_id")
    @classmethod
    def _uuid(cls, v: str) -> str:
        return str(uuid.UUID(v))


class AccountFilters(BaseModel):
    q: str | None = Field(None, max_length=64, description="用户名、人员编号（前缀）或姓名")
    region: str | None = Field(None, max_length=12, pattern=r"^\d+$")
    role: str | None = Field(None, max_length=24)
    staff_id: str | None = Field(None, max_length=36)
    linked: bool | None = None
    active: bool | None = None
    cursor: str | None = Field(None, max_length=64)
    limit: int = Field(50, ge=1, le=200)


class AccountOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.ACCOUNT))

    id: uuid.UUID
    username: str
    name: str
    roles: list[Role]
    region: str
    region_name: str
    staff_id: str | None
    staff_code: str | None
    staff_role: str | None
    active: bool
    disabled_reason: DisabledReason | None
    disabled_at: datetime | None
    has_password: bool  # False: made from a staff record, waiting for a reset
    must_change_password: bool
    password_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime | None
    last_login_at: datetime | None


class AccountPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra=examples({"items": [ex.ACCOUNT], "next_cursor": "eyJ1IjoiUzAwMDQyIn0"})
    )

    items: list[AccountOut]
    next_cursor: str | None


class TemporaryPassword(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.TEMPORARY_PASSWORD))

    account: AccountOut
    temporary_password: str = Field(
        description="只显示这一次；首次登录须修改 | shown once; must be changed at the first login"
    )
    expires_at: datetime


class PasswordChangeIn(_In):
    model_config = ConfigDict(json_schema_extra=examples(ex.PASSWORD_CHANGE))

    username: str = Field(min_length=1, max_length=64)
    current_password: str = Field(min_length=1, max_length=200, description="当前密码或临时密码")
    new_password: str = Field(min_length=1, max_length=200)
