"""Separation of administrative duties (三员分立), 等保 2.0 level 3 (GB/T 22239-2019: 8.1.4.2 访问控制,
the administrators' rights separated; 8.1.5 安全管理中心, 系统管理 / 审计管理 / 安全管理 each by
its own administrator):

- system_admin (系统管理员): accounts and the system's settings;
- security_admin (安全管理员): who holds which role;
- audit_admin (审计管理员): the only one who reads and verifies the audit trail
  (libs.common.audit.router), so the people whose actions are recorded cannot read or judge it.

The rules, checked on every grant (create or change of an account's roles):

1. one account holds at most one of the three — nor one of them with `admin`, the
   installation's all-rights account (it counts as every duty at once);
2. nobody grants a role to themselves;
3. a holder of one of the three grants none of the other two, nor `admin`: a security
   administrator cannot make someone (a friend, a second account) the auditor.

`admin` itself, holding no single duty, may appoint the three: that is how an installation
starts. A deployment that runs 三员分立 disables the `admin` account once they are appointed
(README, "Retention and citizens' rights").

Pure: no I/O; services/identity/accounts.py calls `refusal` and raises what it returns."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

DUTIES = ("system_admin", "security_admin", "audit_admin")
EXCLUSIVE = frozenset({"admin", *DUTIES})
_NAMES = {
    "admin": ("管理员", "administrator"),
    "system_admin": ("系统管理员", "system administrator"),
    "security_admin": ("安全管理员", "security administrator"),
    "audit_admin": ("审计管理员", "audit administrator"),
}


class Refusal(NamedTuple):
    status: int
    message: str
    message_en: str


def _zh(roles: Iterable[str]) -> str:
    return "、".join(_NAMES[r][0] for r in sorted(roles))


def _en(roles: Iterable[str]) -> str:
    return ", ".join(_NAMES[r][1] for r in sorted(roles))


def refusal(
    *, granter_roles: Iterable[str], own_account: bool, before: Iterable[str], after: Iterable[str]
) -> Refusal | None:
    """Why this change of an account's roles (`before` → `after`) by this granter is refused."""
    after_set, added = set(after), set(after) - set(before)
    held = after_set & EXCLUSIVE
    if len(held) > 1:
        return Refusal(
            409,
            f"三员分立：{_zh(held)}不能由同一账号兼任",
            f"separation of duties: one account cannot be {_en(held)} at once",
        )
    if own_account and added:
        return Refusal(403, "不能给自己授予角色", "you cannot grant a role to yourself")
    mine = set(granter_roles) & set(DUTIES)
    others = (added & EXCLUSIVE) - mine
    if mine and others:
        return Refusal(
            403,
            f"三员分立：{_zh(mine)}不能授予{_zh(others)}角色",
            f"separation of duties: a {_en(mine)} cannot grant the {_en(others)} role",
        )
    return None
