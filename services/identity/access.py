"""Identity's access policy — the one place that says who may call what (deny by default)."""

from libs.common.auth import PUBLIC, STAFF_ROLES, allow

STAFF = tuple(sorted(STAFF_ROLES))

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
    # Account administration: admins, inside their own jurisdiction (accounts.py).
    "GET /v1/accounts": allow("admin"),
    "POST /v1/accounts": allow("admin"),
    "GET /v1/accounts/{account_id}": allow("admin"),
    "PATCH /v1/accounts/{account_id}": allow("admin"),
    "POST /v1/accounts/{account_id}/disable": allow("admin"),
    "POST /v1/accounts/{account_id}/enable": allow("admin"),
    "POST /v1/accounts/{account_id}/reset-password": allow("admin"),
    "PUT /v1/accounts/{account_id}/staff": allow("admin"),
    "DELETE /v1/accounts/{account_id}/staff": allow("admin"),
}
