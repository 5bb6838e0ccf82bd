"""Identity's pure account rules: login verdicts, the password policy, temporary passwords,
jurisdictions, dispatch role → login roles, how a linked account follows its staff member,
and the demo accounts (every staff member logs in as their staff code)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from libs.common import demo_network
from libs.common.auth import ROLES
from libs.common.staff_roles import STAFF_ROLE_GRANTS, grants_for, jurisdiction_of
from services.identity import domain

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ok", "active", "must", "expires", "verdict"),
    [
        (False, False, True, NOW - timedelta(days=1), "invalid"),  # a wrong password learns nothing
        (True, False, False, None, "disabled"),
        (True, True, True, NOW - timedelta(seconds=1), "expired"),
        (True, True, True, NOW + timedelta(hours=1), "change_required"),
        (True, True, False, None, "ok"),
    ],
)
def test_login_verdict(ok, active, must, expires, verdict):
    got = domain.login_verdict(password_ok=ok, active=active, must_change=must, expires_at=expires, now=NOW)
    assert got == verdict


@pytest.mark.parametrize(
    ("password", "username", "current", "fragment"),
    [
        ("Abc12345!", "S00913", None, "至少 10"),
        ("S00913-secret", "S00913", None, "用户名"),
        ("my-s00913-pass", "S00913", None, "用户名"),  # case does not hide it
        ("abcdefghijkl", "S00913", None, "两种"),
        ("123456789012", "S00913", None, "两种"),
        ("Lawline@12348", "S00913", None, "演示密码"),
        ("Tiger-Lily-2026", "S00913", "Tiger-Lily-2026", "相同"),
        ("x" * 129 + "1", "S00913", None, "最多"),
    ],
)
def test_password_policy_refuses(password, username, current, fragment):
    problem = domain.password_problem(password, username=username, current=current)
    assert problem is not None and fragment in problem[0] and problem[1]


def test_password_policy_accepts_a_reasonable_password_and_every_temporary_one():
    assert domain.password_problem("Tiger-Lily-2026", username="S00913", current="old-one-1234") is None
    assert domain.password_problem("长治市法律服务2026", username="S00913") is None  # Chinese letters count
    seen = set()
    for _ in range(200):
        temp = domain.temporary_password()
        assert len(temp) == 14 and temp.count("-") == 2
        assert not set(temp) & set("0O1lI")  # nothing to misread
        assert domain.password_problem(temp, username="S00913") is None
        seen.add(temp)
    assert len(seen) == 200


def test_every_dispatch_role_grants_roles_that_exist_and_can_act():
    assert set(STAFF_ROLE_GRANTS) >= {
        "operator",
        "counter_staff",
        "lawyer",
        "legal_worker",
        "mediator",
        "aid_officer",
        "notary",
        "volunteer",
    }
    assert all(set(g) <= set(ROLES) - {"external_system", "admin"} for g in STAFF_ROLE_GRANTS.values())
    assert grants_for("legal_worker") == ("counter_staff",)  # 基层法律服务工作者 at the counter
    assert grants_for("aid_officer") == ("aid_officer",) and grants_for("lawyer") == ("lawyer",)
    assert grants_for("somebody_new") == () and grants_for(None) == ()


def test_jurisdiction_is_the_county_or_the_city_of_the_service_point():
    assert jurisdiction_of(county_code="140430", region_code="140430003001") == "140430"
    assert jurisdiction_of(county_code=None, region_code="140400") == "1404"
    assert jurisdiction_of(county_code=None, region_code="140000") == "14"
    for code in ("14", "1404", "140430", "140430003"):
        assert domain.region_known(code), code
    for code in ("15", "1499", "140499", "abc", "1", "14043"):
        assert not domain.region_known(code), code
    assert domain.region_name("1404") == "山西省长治市" and domain.region_name("140430").endswith("沁县")


LAWYER = domain.StaffFacts("王伟", "lawyer", "140430", "140430003", True)


def test_a_new_staff_member_gets_their_roles_and_county():
    acc = domain.new_from_staff(LAWYER)
    assert (acc.name, acc.roles, acc.region, acc.active) == ("王伟", ("lawyer",), "140430", True)


def test_following_staff_keeps_an_admins_roles_and_region_until_the_person_really_changes():
    acc = domain.new_from_staff(LAWYER)
    # An admin also made them a supervisor, and widened their region to the city.
    acc = domain.Linked(acc.name, ("lawyer", "supervisor"), "1404", True, None, "lawyer", "140430")
    renamed = domain.follow_staff(acc, domain.StaffFacts("王伟民", "lawyer", "140430", "140430003", True))
    assert renamed.changed == ("name",)
    assert (renamed.roles, renamed.region) == (("lawyer", "supervisor"), "1404")
    # Now dispatch makes them a mediator at a 潞州区 station: the lawyer grant goes, mediator comes.
    moved = domain.follow_staff(renamed, domain.StaffFacts("王伟民", "mediator", "140403", "140403002", True))
    assert moved.roles == ("mediator", "supervisor") and moved.region == "140403"
    assert set(moved.changed) == {"roles", "region"}


def test_an_inactive_staff_member_disables_the_account_and_only_that_is_undone_with_them():
    acc = domain.new_from_staff(LAWYER)
    gone = domain.follow_staff(acc, domain.StaffFacts("王伟", "lawyer", "140430", "140430003", False))
    assert (gone.active, gone.disabled_reason, gone.changed) == (False, "staff_inactive", ("active",))
    back = domain.follow_staff(gone, LAWYER)
    assert (back.active, back.disabled_reason) == (True, None)
    by_admin = domain.Linked(acc.name, acc.roles, acc.region, False, "admin", "lawyer", "140430")
    assert domain.follow_staff(by_admin, LAWYER).active is False  # the admin's disabling stands


def test_link_adds_the_grants_and_unlink_takes_them_back():
    plain = domain.Linked("临时账号", ("operator",), "1404", True, None, None, None)
    linked = domain.link_to(plain, LAWYER)
    assert linked.roles == ("lawyer", "operator") and linked.region == "140430" and linked.name == "王伟"
    assert domain.unlink(linked).roles == ("operator",)


def test_every_demo_staff_member_logs_in_as_their_staff_code():
    _, staff = demo_network.build()
    accounts = {a.username: a for a in domain.demo_accounts()}
    # 72 county role accounts, admin and two city ones, the three 三员 administrators.
    assert len(accounts) == len(domain.demo_accounts()) == len(staff) + 78
    for s in staff:
        a = accounts[s.code]
        assert a.staff_id == str(s.id) and a.name == s.name and a.staff_role == s.role
        assert a.roles == grants_for(s.role) and a.roles
        assert a.region == (s.point.county_code or "1404")
    assert accounts["S00001"].roles == ("operator",) and accounts["S00001"].region == "1404"
    # The role accounts the README names keep working, linked to the same people.
    first_aid = next(s for s in staff if s.point.code == "SP140403" and s.role == "aid_officer")
    assert accounts["aid_140403"].staff_id == accounts[first_aid.code].staff_id == str(first_aid.id)
