"""Identity's pure rules: refresh-token verdicts, scope/limit syntax, the demo accounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from libs.common import demo_network, regions
from libs.common.auth import ROLES
from services.identity import domain

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


@pytest.mark.parametrize(
    ("used", "revoked", "expires", "verdict"),
    [
        (None, None, LATER, "ok"),
        (None, None, NOW, "expired"),
        (NOW, None, LATER, "reuse"),
        (None, NOW, LATER, "reuse"),
        (NOW, NOW, NOW - timedelta(days=1), "reuse"),  # a spent token stays suspicious when expired
    ],
)
def test_refresh_verdict(used, revoked, expires, verdict):
    assert domain.refresh_verdict(used_at=used, revoked_at=revoked, expires_at=expires, now=NOW) == verdict


def test_scope_and_rate_limit_syntax():
    assert domain.check_scopes(["workorders:write", "open311:write", "workorders:write"]) == [
        "open311:write",
        "workorders:write",
    ]
    for bad in (["admin"], ["Workorders:Write"], ["a:b c"]):
        with pytest.raises(ValueError):
            domain.check_scopes(bad)
    assert domain.check_rate_limit("5/second") == "5/second"
    with pytest.raises(ValueError):
        domain.check_rate_limit("lots")


def test_demo_accounts_cover_every_staff_role_in_every_county():
    accounts = {a.username: a for a in domain.demo_accounts()}
    counties = [c.code for c in regions.counties()]
    assert len(counties) == 12
    for code in counties:
        for prefix in ("op", "counter", "lawyer", "aid", "mediator", "supervisor"):
            assert accounts[f"{prefix}_{code}"].region == code
    assert {"admin", "supervisor_1404", "op_1404"} <= set(accounts)
    covered = {r for a in accounts.values() for r in a.roles}
    assert covered == set(ROLES) - {"external_system"}  # machines get API keys, not logins
    # Case workers are real demo staff of their own county centre (same ids as dispatch).
    _, staff = demo_network.build()
    by_id = {str(s.id): s for s in staff}
    lawyer = by_id[accounts["lawyer_140430"].staff_id]
    assert lawyer.role == "lawyer" and lawyer.point.county_code == "140430"
    assert by_id[accounts["aid_140403"].staff_id].role == "aid_officer"
    assert len(accounts) == len(domain.demo_accounts())  # usernames are unique
