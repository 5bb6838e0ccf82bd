"""Who is calling, and may they? — one place per service.

Every service declares its access policy as data (`services/<svc>/access.py`: one
`Rule` per "METHOD /path/template"). `authorize` is installed as an app-wide
dependency: a route with no rule is refused (deny by default), a public rule lets
anyone in, otherwise a valid bearer token with one of the rule's roles is required.
Endpoints read the caller with `Depends(principal)` and filter by its jurisdiction.

Tokens are JWTs checked against configuration (issuer, audience, HS256 shared secret
or a JWKS URL), so a province's own OIDC provider can replace the built-in login.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from fastapi import Request
from jwt.algorithms import RSAAlgorithm
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import ColumnElement, true

from libs.common.audit_context import request_context
from libs.common.problems import Problem

ROLES = (
    "operator",
    "counter_staff",
    "lawyer",
    "mediator",
    "aid_officer",
    "supervisor",
    "admin",
    # 三员分立 (等保 2.0 level 3): services/identity/duties.py.
    "system_admin",
    "security_admin",
    "audit_admin",
    "external_system",
)
STAFF_ROLES = frozenset(ROLES) - {"external_system"}


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LAWLINE_AUTH_", extra="ignore")

    jwt_secret: str = "lawline-dev-secret-change-me-in-production-0123456789"
    jwt_issuer: str = "lawline"
    jwt_audience: str = "lawline"
    jwt_algorithms: list[str] = ["HS256"]
    jwks_url: str | None = None  # set to trust an external OIDC provider's keys
    # RS256 instead of a shared secret: the issuer (identity) holds the private key and serves
    # the public half at /.well-known/jwks.json; services verify with jwks_url or jwt_public_key.
    jwt_private_key: str | None = None  # PEM
    jwt_public_key: str | None = None  # PEM
    jwt_key_id: str = "lawline-1"
    access_ttl_seconds: int = 900
    # Claim names, so an external IdP's tokens can be mapped without code changes.
    roles_claim: str = "roles"
    region_claim: str = "region"


_DEV_SECRET = AuthSettings.model_fields["jwt_secret"].default


@lru_cache
def get_auth_settings() -> AuthSettings:
    s = AuthSettings()
    uses_secret = not (s.jwks_url or s.jwt_public_key or s.jwt_private_key)
    if os.environ.get("LAWLINE_ENV") == "production" and uses_secret and s.jwt_secret == _DEV_SECRET:
        raise RuntimeError("refusing to run in production with the development JWT secret")
    return s


def jwks(settings: AuthSettings | None = None) -> dict[str, Any]:
    """The public signing keys (empty with a shared secret: nothing to publish)."""
    s = settings or get_auth_settings()
    if not s.jwt_private_key:
        return {"keys": []}
    private = serialization.load_pem_private_key(s.jwt_private_key.encode(), password=None)
    jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)  # type: ignore[call-overload]
    return {"keys": [{**jwk, "kid": s.jwt_key_id, "use": "sig", "alg": s.jwt_algorithms[0]}]}


@dataclass(frozen=True)
class Principal:
    sub: str
    kind: str  # staff | api_key | anonymous
    roles: frozenset[str]
    region: str  # jurisdiction prefix: "14" province, "1404" city, "140403" county, "140403001" township
    name: str = ""
    staff_id: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    jti: str | None = None

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    def covers(self, region_code: str | None) -> bool:
        """Is this region inside the caller's jurisdiction?"""
        return region_code is not None and region_code.startswith(self.region)


ANONYMOUS = Principal(sub="anonymous", kind="anonymous", roles=frozenset(), region="")


# ---- object level: which object of a route a role may see --------------------------------
# Function level says who may call a route; object level says, per role, what lets the caller
# see ONE object of it (an order, its task). Any one grant suffices; none is a 404, exactly
# like an object that does not exist. Services check it in their use cases (they know who
# holds what); the access-matrix test generates its object-level cases from the same rules.
JURISDICTION = (
    "jurisdiction"  # the object lies inside the caller's region (registering, looking up, supervising)
)
HOLDER = "holder"  # offered to the caller or accepted by them — in any county: access follows the work
HANDLER = "handler"  # accepted by the caller: the one who works it and must call the citizen back
GRANTS = (JURISDICTION, HOLDER, HANDLER)


@dataclass(frozen=True)
class ObjectAccess:
    """Per role, the grants that let it see one object (built with `object_access`)."""

    by_role: tuple[tuple[str, frozenset[str]], ...] = ()

    def roles(self) -> frozenset[str]:
        return frozenset(r for r, _ in self.by_role)

    def grants(self, roles: frozenset[str] | set[str]) -> frozenset[str]:
        """Everything any of these roles is granted."""
        return frozenset(g for r, gs in self.by_role if r in roles for g in gs)


def object_access(
    *, jurisdiction: tuple[str, ...] = (), holder: tuple[str, ...] = (), handler: tuple[str, ...] = ()
) -> ObjectAccess:
    given = {JURISDICTION: jurisdiction, HOLDER: holder, HANDLER: handler}
    unknown = {r for roles in given.values() for r in roles} - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")
    by_role: dict[str, set[str]] = {}
    for grant, roles in given.items():
        for r in roles:
            by_role.setdefault(r, set()).add(grant)
    return ObjectAccess(tuple(sorted((r, frozenset(g)) for r, g in by_role.items())))


def object_visible(grants: frozenset[str], *, in_jurisdiction: bool, holds: bool, handles: bool) -> bool:
    """Pure: does one of the caller's grants reach this object? `holds`: an open offer or an
    accepted assignment of it is the caller's; `handles`: an accepted one is."""
    return (
        (JURISDICTION in grants and in_jurisdiction)
        or (HOLDER in grants and (holds or handles))
        or (HANDLER in grants and handles)
    )


def in_jurisdiction(who: Principal, region_code: str | None) -> bool:
    return not who.region or who.covers(region_code)


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str] = frozenset()
    public: bool = False
    scopes: frozenset[str] = frozenset()  # API-key scopes that also grant access
    note: str = ""
    objects: ObjectAccess | None = None  # object level, where the route reads or acts on one object


def allow(
    *roles: str, scopes: tuple[str, ...] = (), note: str = "", objects: ObjectAccess | None = None
) -> Rule:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")
    if objects is not None and objects.roles() != set(roles):
        # Every role let in must be told which objects it sees, and no other role named.
        raise ValueError(f"object access names {sorted(objects.roles())}, the rule allows {sorted(roles)}")
    return Rule(roles=frozenset(roles), scopes=frozenset(scopes), note=note, objects=objects)


PUBLIC = Rule(public=True)


def issue_access_token(
    *,
    sub: str,
    roles: list[str],
    region: str,
    name: str = "",
    staff_id: str | None = None,
    kind: str = "staff",
    ttl: int | None = None,
    settings: AuthSettings | None = None,
) -> str:
    s = settings or get_auth_settings()
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": s.jwt_issuer,
        "aud": s.jwt_audience,
        "sub": sub,
        "iat": now,
        "nbf": now,
        "exp": now + (ttl or s.access_ttl_seconds),
        "jti": uuid.uuid4().hex,
        s.roles_claim: roles,
        s.region_claim: region,
        "name": name,
        "kind": kind,
    }
    if staff_id:
        claims["staff_id"] = staff_id
    if s.jwt_private_key:
        return jwt.encode(
            claims, s.jwt_private_key, algorithm=s.jwt_algorithms[0], headers={"kid": s.jwt_key_id}
        )
    return jwt.encode(claims, s.jwt_secret, algorithm=s.jwt_algorithms[0])


@lru_cache
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True)


def decode_token(token: str, settings: AuthSettings | None = None) -> Principal:
    s = settings or get_auth_settings()
    try:
        key: Any = (
            _jwks_client(s.jwks_url).get_signing_key_from_jwt(token).key
            if s.jwks_url
            else s.jwt_public_key or s.jwt_secret
        )
        claims = jwt.decode(
            token,
            key,
            algorithms=s.jwt_algorithms,
            audience=s.jwt_audience,
            issuer=s.jwt_issuer,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as exc:
        raise Problem(401, "登录已失效或凭证无效，请重新登录", f"invalid token: {exc}") from exc
    roles = claims.get(s.roles_claim) or []
    return Principal(
        sub=str(claims["sub"]),
        kind=claims.get("kind", "staff"),
        roles=frozenset(r for r in roles if r in ROLES),
        region=str(claims.get(s.region_claim, "")),
        name=claims.get("name", ""),
        staff_id=claims.get("staff_id"),
        jti=claims.get("jti"),
        scopes=frozenset(claims.get("scopes") or []),
    )


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class _VerifiedTokens:
    """Tokens already verified, kept until they expire (bounded): a client sends the same token
    on every request, and re-checking its signature cost ~0.2 ms CPU each time (bench/).
    Revocation is checked on every request, outside this cache."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._d: dict[str, tuple[float, Principal]] = {}

    def get(self, token: str) -> Principal | None:
        hit = self._d.get(token)
        if hit is None:
            return None
        if hit[0] <= time.time():
            self._d.pop(token, None)
            return None
        return hit[1]

    def put(self, token: str, who: Principal) -> None:
        try:
            exp = float(jwt.decode(token, options={"verify_signature": False}).get("exp", 0))
        except jwt.PyJWTError:
            return
        if len(self._d) >= self.size:
            self._d.pop(next(iter(self._d)))  # oldest first (insertion order)
        self._d[token] = (exp, who)


_VERIFIED = _VerifiedTokens()


async def authorize(request: Request) -> None:
    """App-wide dependency: deny by default, per the service's declared policy.

    Denials carry a `code` (no_rule / unauthenticated / role_forbidden / token_revoked) so
    clients and the access-matrix test can tell a policy denial from an object-level one."""
    route = request.scope.get("route")
    key = f"{request.method} {getattr(route, 'path', request.url.path)}"
    policy: dict[str, Rule] = getattr(request.app.state, "policy", {})
    rule = policy.get(key)
    if rule is None:
        raise Problem(
            403,
            "该接口未配置访问规则，默认拒绝",
            f"no access rule for {key}: denied by default",
            code="no_rule",
        )
    if rule.public:
        request.state.principal = ANONYMOUS
        return
    resolver = getattr(request.app.state, "resolve_credentials", None)
    principal = await resolver(request) if resolver else None
    if principal is None:
        token = _bearer(request)
        if token is None:
            raise Problem(
                401,
                "请先登录（缺少 Authorization: Bearer 令牌）",
                "authentication required",
                headers_www="Bearer",
                code="unauthenticated",
            )
        principal = _VERIFIED.get(token)
        if principal is None:
            # A JWKS fetch is blocking network I/O: keep it off the event loop.
            settings = get_auth_settings()
            principal = (
                await asyncio.to_thread(decode_token, token) if settings.jwks_url else decode_token(token)
            )
            _VERIFIED.put(token, principal)
        credentials = getattr(request.app.state, "credentials", None)
        if credentials is not None and not credentials.ready:
            raise credentials_loading()  # a revocation not read yet must not let the token in
        if credentials is not None and credentials.jti_revoked(principal.jti):
            raise Problem(
                401, "登录已注销，请重新登录", "token revoked", headers_www="Bearer", code="token_revoked"
            )
    if not permits(rule, principal):
        raise Problem(403, "您的角色无权执行此操作", f"role not allowed for {key}", code="role_forbidden")
    request.state.principal = principal
    _note_for_audit(principal)


def credentials_loading() -> Problem:
    """A starting service has not read every revocation and key yet (libs.common.apikeys)."""
    return Problem(
        503,
        "服务刚启动，正在同步登录凭据，请稍后重试",
        "credentials are still being loaded: retry shortly",
        code="credentials_loading",
        headers_retry="2",
    )


def permits(rule: Rule, who: Principal) -> bool:
    """API keys need one of the rule's scopes when it names any; everyone else needs a role."""
    if who.kind == "api_key":
        return bool(who.scopes & rule.scopes) if rule.scopes else bool(who.roles & rule.roles)
    return bool(who.roles & rule.roles or who.scopes & rule.scopes)


def _note_for_audit(who: Principal) -> None:
    ctx = request_context.get()
    if ctx is not None:
        ctx.actor, ctx.actor_kind = who.sub, who.kind
        ctx.roles, ctx.region = sorted(who.roles), who.region


async def principal(request: Request) -> Principal:
    """Endpoint dependency: the caller, as established by `authorize`.
    Async on purpose: a sync dependency would send every request through the thread pool."""
    return getattr(request.state, "principal", ANONYMOUS)


def region_filter(column: Any, who: Principal) -> ColumnElement[bool]:
    """SQL condition keeping only rows inside the caller's jurisdiction."""
    return true() if not who.region else column.startswith(who.region, autoescape=True)


def ensure_visible(who: Principal, region_code: str | None) -> None:
    """Object-level check: outside the jurisdiction looks exactly like 'not found'."""
    if who.region and not who.covers(region_code):
        raise Problem(404, "未找到", "not found")
