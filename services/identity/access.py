"""Identity's access policy — the one place that says who may call what (deny by default)."""

from libs.common.auth import PUBLIC, STAFF_ROLES, allow

STAFF = tuple(sorted(STAFF_ROLES))
ACCOUNT_ADMINS = ("admin", "system_admin", "security_admin")

POLICY = {
    # The credentials are in the body; brute force is limited per IP + username.
    "POST /v1/auth/login": PUBLIC,
    "GET /.well-known/jwks.json": PUBLIC,
    "POST /v1/auth/refresh": PUBLIC,
    # The person themselves, with the current (or temporary) password in the body; limited
    # like login. Public: a temporary password must be replaced before any token is issued.
    "POST /v1/auth/password": PUBLIC,
    "POST /v1/auth/logout": allow(*STAFF),
    "GET /v1/auth/me": allow(*STAFF, "external_system"),
    "POST /v1/api-keys": allow("admin"),
    "GET /v1/api-keys": allow("admin"),
    "DELETE /v1/api-keys/{key_id}": allow("admin"),
    # Account administration: admins, inside their own jurisdiction (accounts.py); the system and
    # security administrators too, within 三员分立 (duties.py: no self-grant, no other duty).
    "GET /v1/accounts": allow(*ACCOUNT_ADMINS),
    "POST /v1/accounts": allow(*ACCOUNT_ADMINS),
    "GET /v1/accounts/{account_id}": allow(*ACCOUNT_ADMINS),
    "PATCH /v1/accounts/{account_id}": allow(*ACCOUNT_ADMINS),
    "POST /v1/accounts/{account_id}/disable": allow(*ACCOUNT_ADMINS),
    "POST /v1/accounts/{account_id}/enable": allow(*ACCOUNT_ADMINS),
    "POST /v1/accounts/{account_id}/reset-password": allow(*ACCOUNT_ADMINS),
    "PUT /v1/accounts/{account_id}/staff": allow(*ACCOUNT_ADMINS),
    "DELETE /v1/accounts/{account_id}/staff": allow(*ACCOUNT_ADMINS),
}
