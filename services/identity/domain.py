"""Identity's pure rules (no I/O): refresh-token and login verdicts, the password policy and
temporary passwords, scope and rate-limit syntax, how an account follows its staff member,
and the demo accounts derived from the shared demo network."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from limits import parse

from libs.common import demo_network, regions
from libs.common.auth import STAFF_ROLES
from libs.common.bilingual import Text
from libs.common.staff_roles import grants_for, jurisdiction_of

SCOPE_RE = re.compile(r"^[a-z0-9_]+:[a-z0-9_*]+$")
DEMO_PASSWORD = "Lawline@12348"  # demo only: README lists it; production accounts come from the IdP


def token_hash(token: str) -> str:
    # Refresh tokens are 256 random bits: SHA-256 is enough (no dictionary to guess from).
    return hashlib.sha256(token.encode()).hexdigest()


def refresh_verdict(
    *, used_at: datetime | None, revoked_at: datetime | None, expires_at: datetime, now: datetime
) -> str:
    """ok | reuse (a spent or revoked token came back: assume theft, revoke the family) | expired."""
    if used_at is not None or revoked_at is not None:
        return "reuse"
    if expires_at <= now:
        return "expired"
    return "ok"


NO_PASSWORD = "!"  # an account made from a staff record before anyone set its password


def login_verdict(
    *,
    password_ok: bool,
    active: bool,
    must_change: bool,
    expires_at: datetime | None,
    now: datetime,
) -> str:
    """ok | invalid | disabled | expired | change_required. Only a right password learns more
    than `invalid`: nobody can probe which accounts exist or are disabled."""
    if not password_ok:
        return "invalid"
    if not active:
        return "disabled"
    if expires_at is not None and expires_at <= now:
        return "expired"  # a temporary password not used in time
    return "change_required" if must_change else "ok"


# ---- passwords -----------------------------------------------------------------------------
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128
# No 0/O, 1/l/I: a temporary password is read out or copied by hand.
_TEMP_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"


def password_problem(password: str, *, username: str, current: str | None = None) -> tuple[str, str] | None:
    """The first way a new password breaks the policy, as (zh, en); None when it is acceptable.
    At least 10 characters of at least two kinds (letters, digits, symbols), not the username
    nor containing it, not the published demo password, not the current one."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return (f"密码至少 {MIN_PASSWORD_LENGTH} 个字符", f"at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        return (f"密码最多 {MAX_PASSWORD_LENGTH} 个字符", f"at most {MAX_PASSWORD_LENGTH} characters")
    if username and username.casefold() in password.casefold():
        return ("密码不能是用户名，也不能包含用户名", "the password must not be or contain the username")
    kinds = sum(
        (
            any(c.isalpha() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if kinds < 2:
        return ("密码须包含字母、数字、符号中的至少两种", "use at least two of letters, digits and symbols")
    if password == DEMO_PASSWORD:
        return ("不能使用公开的演示密码", "the published demo password cannot be used")
    if current is not None and password == current:
        return ("新密码不能与当前密码相同", "the new password must differ from the current one")
    return None


def temporary_password() -> str:
    """12 random characters (≈70 bits) in three groups, with a letter and a digit: it meets the
    policy itself, and the person replaces it at their first login."""
    while True:
        raw = "".join(secrets.choice(_TEMP_ALPHABET) for _ in range(12))
        if any(c.isdigit() for c in raw) and any(c.isalpha() for c in raw):
            return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


# ---- accounts ------------------------------------------------------------------------------
ASSIGNABLE_ROLES = tuple(sorted(STAFF_ROLES))  # external systems get API keys, never a login
_PREFIX_LENGTHS = {2: "0000", 4: "00", 6: "", 9: "", 12: ""}


def region_known(code: str) -> bool:
    """A jurisdiction prefix of a real region: province (14), city (1404), county, township."""
    pad = _PREFIX_LENGTHS.get(len(code))
    return code.isdigit() and pad is not None and regions.lookup(code + pad) is not None


def region_name(code: str) -> str:
    pad = _PREFIX_LENGTHS.get(len(code), "")
    return regions.full_name(code + pad) or code


def check_roles(roles: list[str]) -> list[str]:
    bad = sorted(set(roles) - set(ASSIGNABLE_ROLES))
    if bad:
        raise Text(f"未知或不可分配的角色：{bad}", f"unknown or unassignable roles: {bad}").error()
    return sorted(set(roles))


@dataclass(frozen=True)
class StaffFacts:
    """What identity needs of a dispatch staff record."""

    name: str
    role: str
    county_code: str | None
    region_code: str  # of the service point
    active: bool

    @property
    def jurisdiction(self) -> str:
        return jurisdiction_of(county_code=self.county_code, region_code=self.region_code)


@dataclass(frozen=True)
class Linked:
    """An account as far as its staff link is concerned (before or after a change)."""

    name: str
    roles: tuple[str, ...]
    region: str
    active: bool
    disabled_reason: str | None
    staff_role: str | None  # what the link last derived the roles from
    staff_region: str | None  # … and the region
    changed: tuple[str, ...] = field(default=(), compare=False)


def new_from_staff(staff: StaffFacts) -> Linked:
    return Linked(
        name=staff.name,
        roles=tuple(sorted(grants_for(staff.role))),
        region=staff.jurisdiction,
        active=staff.active,
        disabled_reason=None if staff.active else "staff_inactive",
        staff_role=staff.role,
        staff_region=staff.jurisdiction,
    )


def follow_staff(acc: Linked, staff: StaffFacts) -> Linked:
    """The account after its staff member changed. The name always follows. Roles: what the
    old dispatch role granted is swapped for what the new one grants, only when the role
    really changed — roles an admin added stay. Region: follows a move of the service point;
    an admin's choice stays until the next move. A staff member made inactive disables the
    account; made active again re-enables only an account disabled for that reason (an
    admin's disabling stands)."""
    roles = acc.roles
    if staff.role != acc.staff_role:
        roles = tuple(sorted((set(roles) - set(grants_for(acc.staff_role))) | set(grants_for(staff.role))))
    region = staff.jurisdiction if staff.jurisdiction != acc.staff_region else acc.region
    active, reason = acc.active, acc.disabled_reason
    if not staff.active and acc.active:
        active, reason = False, "staff_inactive"
    elif staff.active and not acc.active and acc.disabled_reason == "staff_inactive":
        active, reason = True, None
    after = Linked(staff.name, roles, region, active, reason, staff.role, staff.jurisdiction)
    changed = tuple(f for f in ("name", "roles", "region", "active") if getattr(after, f) != getattr(acc, f))
    return Linked(staff.name, roles, region, active, reason, staff.role, staff.jurisdiction, changed)


def link_to(acc: Linked, staff: StaffFacts) -> Linked:
    """An admin links an account to a staff member: it takes the person's name, jurisdiction
    and the roles their dispatch role grants (added to what it has)."""
    roles = tuple(sorted(set(acc.roles) | set(grants_for(staff.role))))
    return Linked(
        staff.name, roles, staff.jurisdiction, acc.active, acc.disabled_reason, staff.role, staff.jurisdiction
    )


def unlink(acc: Linked) -> Linked:
    """Unlinked, the account loses what the link granted (least privilege: linked to the wrong
    person, it must not keep that person's roles); what an admin gave it stays."""
    roles = tuple(sorted(set(acc.roles) - set(grants_for(acc.staff_role))))
    return Linked(acc.name, roles, acc.region, acc.active, acc.disabled_reason, None, None)


def check_scopes(scopes: list[str]) -> list[str]:
    bad = [s for s in scopes if not SCOPE_RE.match(s)]
    if bad:
        raise Text("权限范围格式应为 资源:操作", f"scopes must look like resource:action: {bad}").error()
    return sorted(set(scopes))


def check_rate_limit(spec: str) -> str:
    try:
        parse(spec)
    except ValueError as exc:
        raise Text("限流格式如 120/minute", "rate limit must look like 120/minute").error() from exc
    return spec


@dataclass(frozen=True)
class DemoAccount:
    username: str
    name: str
    roles: tuple[str, ...]
    region: str
    staff_id: str | None
    staff_code: str | None = None
    staff_role: str | None = None


# Demo roles → the demo-network role whose first member at the county centre the account is.
_COUNTY_ACCOUNTS = (
    ("op", "operator", None),
    ("counter", "counter_staff", "legal_worker"),
    ("lawyer", "lawyer", "lawyer"),
    ("aid", "aid_officer", "aid_officer"),
    ("mediator", "mediator", "mediator"),
    ("supervisor", "supervisor", None),
)


_TITLES = {"operator": "话务员", "supervisor": "督办员"}


def staff_facts(s: demo_network.DemoStaff) -> StaffFacts:
    return StaffFacts(s.name, s.role, s.point.county_code, s.point.region_code, True)


def _linked(username: str, s: demo_network.DemoStaff, roles: tuple[str, ...] | None = None) -> DemoAccount:
    facts = staff_facts(s)
    return DemoAccount(
        username,
        s.name,
        roles or tuple(sorted(grants_for(s.role))),
        facts.jurisdiction,
        str(s.id),
        s.code,
        s.role,
    )


@lru_cache(maxsize=1)
def _demo_accounts() -> tuple[DemoAccount, ...]:
    _, staff = demo_network.build()
    by_point_role: dict[tuple[str, str], demo_network.DemoStaff] = {}
    for s in staff:
        by_point_role.setdefault((s.point.code, s.role), s)
    city_op = by_point_role.get(("SP140400", "operator"))
    accounts = [
        DemoAccount("admin", "系统管理员", ("admin",), "1404", None),
        # 三员分立 (services/identity/duties.py): one account per duty.
        DemoAccount("sysadmin", "市系统管理员", ("system_admin",), "1404", None),
        DemoAccount("secadmin", "市安全管理员", ("security_admin",), "1404", None),
        DemoAccount("auditadmin", "市审计管理员", ("audit_admin",), "1404", None),
        DemoAccount("supervisor_1404", "市督办员", ("supervisor",), "1404", None),
        _linked("op_1404", city_op)
        if city_op
        else DemoAccount("op_1404", "市热线话务员", ("operator",), "1404", None),
    ]
    for county in regions.counties():
        for prefix, role, demo_role in _COUNTY_ACCOUNTS:
            member = by_point_role.get((f"SP{county.code}", demo_role)) if demo_role else None
            username = f"{prefix}_{county.code}"
            if member is not None:
                accounts.append(_linked(username, member, (role,)))
            else:
                name = f"{county.name}{_TITLES[role]}"
                accounts.append(DemoAccount(username, name, (role,), county.code, None))
    # Every staff member logs in as their staff code (S00913): whoever an order is offered
    # to can be logged in as, and acts with the roles their dispatch role grants.
    accounts.extend(_linked(s.code, s) for s in staff)
    return tuple(accounts)


def demo_accounts() -> list[DemoAccount]:
    """Every staff member of the demo network (username = staff code), plus the role accounts
    the README names: every role in each of 长治's counties (the first member of that role at
    the county centre), city-level operator and supervisor, and the admin."""
    return list(_demo_accounts())
