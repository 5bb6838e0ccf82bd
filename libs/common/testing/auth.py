"""Tokens for tests, minted with the same settings the services verify against."""

from __future__ import annotations

from libs.common.auth import issue_access_token


def token(
    role: str | list[str], region: str = "1404", staff_id: str | None = None, name: str = "测试用户"
) -> str:
    roles = [role] if isinstance(role, str) else role
    return issue_access_token(
        sub=staff_id or f"test-{'-'.join(roles)}-{region}",
        roles=roles,
        region=region,
        name=name,
        staff_id=staff_id,
    )


def auth(role: str | list[str], region: str = "1404", staff_id: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, region, staff_id)}"}
