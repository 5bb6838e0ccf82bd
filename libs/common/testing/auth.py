"""Tokens for tests, minted with the same settings the services verify against."""

from __future__ import annotations

from libs.common.auth import issue_access_token

# Tests mint tokens when their modules are imported, and the suite runs longer than a real
# token's 15 minutes: a test's token lives for the whole run (the expiry itself is tested with
# tokens made for it, tests/unit/test_security_identity_domain.py).
TEST_TOKEN_SECONDS = 4 * 3600


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
        ttl=TEST_TOKEN_SECONDS,
    )


def auth(role: str | list[str], region: str = "1404", staff_id: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, region, staff_id)}"}
