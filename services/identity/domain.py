"""Identity's pure rules (no I/O): refresh-token verdicts, scope and rate-limit syntax,
and the demo accounts derived from the shared demo network."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from limits import parse

from libs.common import demo_network, regions

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


def check_scopes(scopes: list[str]) -> list[str]:
    bad = [s for s in scopes if not SCOPE_RE.match(s)]
    if bad:
        raise ValueError(f"权限范围格式应为 资源:操作 | scopes must look like resource:action: {bad}")
    return sorted(set(scopes))


def check_rate_limit(spec: str) -> str:
    try:
        parse(spec)
    except ValueError as exc:
        raise ValueError("限流格式如 120/minute | rate limit must look like 120/minute") from exc
    return spec


@dataclass(frozen=True)
class DemoAccount:
    username: str
    name: str
    roles: tuple[str, ...]
    region: str
    staff_id: str | None


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


def demo_accounts() -> list[DemoAccount]:
    """Every role in each of 长治's counties, plus city-level operator, supervisor and admin."""
    _, staff = demo_network.build()
    by_point_role: dict[tuple[str, str], demo_network.DemoStaff] = {}
    for s in staff:
        by_point_role.setdefault((s.point.code, s.role), s)
    city_op = by_point_role.get(("SP140400", "operator"))
    accounts = [
        DemoAccount("admin", "系统管理员", ("admin",), "1404", None),
        DemoAccount("supervisor_1404", "市督办员", ("supervisor",), "1404", None),
        DemoAccount(
            "op_1404",
            city_op.name if city_op else "市热线话务员",
            ("operator",),
            "1404",
            str(city_op.id) if city_op else None,
        ),
    ]
    for county in regions.counties():
        for prefix, role, demo_role in _COUNTY_ACCOUNTS:
            member = by_point_role.get((f"SP{county.code}", demo_role)) if demo_role else None
            accounts.append(
                DemoAccount(
                    f"{prefix}_{county.code}",
                    member.name if member else f"{county.name}{_TITLES[role]}",
                    (role,),
                    county.code,
                    str(member.id) if member else None,
                )
            )
    return accounts
