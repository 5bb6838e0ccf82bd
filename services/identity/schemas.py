"""Identity's request and response models (the API edge)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from libs.common.auth import ROLES
from libs.common.openapi_examples import examples
from services.identity import domain
from services.identity import examples as ex

# Who a caller is (libs/common/auth.Principal.kind): a staff login, an API key (apikeys.py), or
# the anonymous principal. Documented, not validated: /me answers for whatever the token says.
PRINCIPAL_KINDS = ("staff", "api_key", "anonymous")
PrincipalKind = Annotated[str, WithJsonSchema({"type": "string", "enum": list(PRINCIPAL_KINDS)})]
AnyRole = Annotated[str, WithJsonSchema({"type": "string", "enum": list(ROLES)})]


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=examples(ex.LOGIN))

    username: str = Field(min_length=1, max_length=64, examples=["op_140403"])
    password: str = Field(min_length=1, max_length=200, examples=[domain.DEMO_PASSWORD])


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=examples({"refresh_token": ex.REFRESH_TOKEN}))

    refresh_token: str = Field(min_length=20, max_length=200)


class LogoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=examples({"refresh_token": ex.REFRESH_TOKEN}))

    refresh_token: str | None = Field(None, min_length=20, max_length=200)


class UserOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.USER))

    username: str
    name: str
    roles: list[AnyRole]
    region: str
    staff_id: str | None
    staff_code: str | None = None  # staff members log in with it
    # Where the staff member works (a counter clerk's walk-ins are filed at this 窗口).
    service_point_id: str | None = None
    service_point_name: str | None = None


class TokenOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.TOKEN))

    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    refresh_token: str
    user: UserOut


class MeOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.ME))

    sub: str
    kind: PrincipalKind
    name: str
    roles: list[AnyRole]
    region: str
    staff_id: str | None
    scopes: list[str]


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=examples(ex.API_KEY_IN))

    name: str = Field(min_length=1, max_length=100, examples=["山西省12345热线"])
    scopes: list[str] = Field(min_length=1, max_length=20, examples=[["workorders:write", "open311:write"]])
    region: str = Field(min_length=2, max_length=12, pattern=r"^\d+$", description="管辖区划前缀")
    rate_limit: str = Field("120/minute", max_length=32)

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, v: list[str]) -> list[str]:
        return domain.check_scopes(v)

    @field_validator("rate_limit")
    @classmethod
    def _rate(cls, v: str) -> str:
        return domain.check_rate_limit(v)


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ex.API_KEY))

    key_id: str
    name: str
    scopes: list[str]
    region: str
    rate_limit: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None = None  # always sent; null while the key is in force


class ApiKeyCreated(ApiKeyOut):
    model_config = ConfigDict(json_schema_extra=examples(ex.API_KEY_CREATED))

    api_key: str = Field(description="只显示这一次，请妥善保存 | shown once: store it now")
