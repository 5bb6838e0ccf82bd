"""Examples for identity's OpenAPI document (#17): a 潞州区 (140403) operator logging in, an
admin managing accounts and API keys — valid against the schemas and the validators behind
them (tests/unit/test_openapi_examples.py). FastAPI drops `null` from the document, so a
required field that may be null is shown with a value. Tokens and keys are made up."""

from __future__ import annotations

STAFF_ID = "8c3e5a72-1d4b-4f6a-9e2c-7b5d3a1f0e94"
ACCOUNT_ID = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
REFRESH_TOKEN = "q3Vx8N2bKf0pWm7sYtR4eZ1uLc9hGa5jDo6iXn3vBk"
ACCESS_TOKEN = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImxsLTIwMjYxMSIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiJvcF8xNDA0MDMiLCJyb2xlcyI6WyJvcGVyYXRvciJdLCJyZWdpb24iOiIxNDA0MDMifQ.c2lnbmF0dXJl"
)

USER = {
    "username": "S00042",
    "name": "李建华",
    "roles": ["operator"],
    "region": "140403",
    "staff_id": STAFF_ID,
    "staff_code": "S00042",
    "service_point_id": "d4b7e2a1-3c5f-4e8d-9a6b-1f2c3d4e5a6b",
    "service_point_name": "潞州区公共法律服务中心",
}

TOKEN = {
    "access_token": ACCESS_TOKEN,
    "token_type": "Bearer",
    "expires_in": 900,
    "refresh_token": REFRESH_TOKEN,
    "user": USER,
}

ME = {
    "sub": "S00042",
    "kind": "staff",
    "name": "李建华",
    "roles": ["operator"],
    "region": "140403",
    "staff_id": STAFF_ID,
    "scopes": [],
}

API_KEY_IN = {
    "name": "山西省12345热线",
    "scopes": ["open311:write", "workorders:write"],
    "region": "1404",
    "rate_limit": "120/minute",
}

API_KEY = {
    "key_id": "a1b2c3d4e5f6",
    "name": "山西省12345热线",
    "scopes": ["open311:write", "workorders:write"],
    "region": "1404",
    "rate_limit": "120/minute",
    "created_by": "admin_1404",
    "created_at": "2026-11-20T10:00:00+08:00",
    "revoked_at": "2026-12-01T09:00:00+08:00",
}

# Just made, so not revoked: revoked_at is null, which FastAPI leaves out of the document.
API_KEY_CREATED = {
    **{k: v for k, v in API_KEY.items() if k != "revoked_at"},
    "api_key": "llk_a1b2c3d4e5f6_Zq8x2Vb7Nm4Kp1Lw9Rt6Ys3Uc0Hd5Jf8Ga2Eo7Xi4Qk",
}

ACCOUNT = {
    "id": ACCOUNT_ID,
    "username": "S00042",
    "name": "李建华",
    "roles": ["operator"],
    "region": "140403",
    "region_name": "潞州区",
    "staff_id": STAFF_ID,
    "staff_code": "S00042",
    "staff_role": "operator",
    "active": False,
    "disabled_reason": "admin",
    "disabled_at": "2026-10-08T09:00:00+08:00",
    "has_password": True,
    "must_change_password": False,
    "password_expires_at": "2027-02-20T10:00:00+08:00",
    "created_at": "2026-06-01T08:30:00+08:00",
    "updated_at": "2026-11-20T10:00:00+08:00",
    "last_login_at": "2026-11-24T08:27:00+08:00",
}

TEMPORARY_PASSWORD = {
    "account": ACCOUNT,
    "temporary_password": "Kx7mQp4Tz9Wa",
    "expires_at": "2026-11-27T10:00:00+08:00",
}

ACCOUNT_CREATE = {"username": "S00913", "name": "王伟", "roles": ["counter_staff"], "region": "140429"}
ACCOUNT_PATCH = {"roles": ["counter_staff", "operator"]}
LOGIN = {"username": "op_140403", "password": "Lawline@12348"}
PASSWORD_CHANGE = {
    "username": "S00042",
    "current_password": "Kx7mQp4Tz9Wa",
    "new_password": "Shangdang#2026",
}
