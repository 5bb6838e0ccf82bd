"""Identity's access policy — the one place that says who may call what (deny by default)."""

from libs.common.auth import PUBLIC, STAFF_ROLES, allow

STAFF = tuple(sorted(STAFF_ROLES))

POLICY = {
    # The credentials are in the body; brute force is limited per IP + username.
    "POST /v1/auth/login": PUBLIC,
    "GET /.well-known/jwks.json": PUBLIC,
    "POST /v1/auth/refresh": PUBLIC,
    "POST /v1/auth/logout": allow(*STAFF),
    "GET /v1/auth/me": allow(*STAFF, "external_system"),
    "POST /v1/api-keys": allow("admin"),
    "GET /v1/api-keys": allow("admin"),
    "DELETE /v1/api-keys/{key_id}": allow("admin"),
}
