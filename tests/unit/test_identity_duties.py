"""三员分立 (services/identity/duties.py): the pure grant rule, case by case."""

from __future__ import annotations

import pytest

from services.identity.duties import refusal


@pytest.mark.parametrize(
    ("granter", "own", "before", "after", "status"),
    [
        (["admin"], False, [], ["audit_admin"], None),  # the installation appoints the three
        (["admin"], False, [], ["security_admin", "audit_admin"], 409),  # never two on one account
        (["admin"], False, [], ["admin", "system_admin"], 409),  # nor admin with one of them
        (["security_admin"], False, [], ["lawyer"], None),
        (["security_admin"], False, [], ["security_admin"], None),  # a deputy of the same duty
        (["security_admin"], False, [], ["audit_admin"], 403),  # not the auditor
        (["system_admin"], False, [], ["admin"], 403),  # nor all rights by the back door
        (["system_admin"], False, ["audit_admin"], ["audit_admin"], None),  # kept, not granted
        (["security_admin"], True, ["security_admin"], ["security_admin", "supervisor"], 403),  # self
        (["admin"], True, ["admin"], ["admin", "supervisor"], 403),
        (["admin"], True, ["admin", "supervisor"], ["admin"], None),  # giving one up is no grant
        (["audit_admin", "supervisor"], False, [], ["operator"], None),
    ],
)
def test_grants(granter, own, before, after, status):
    why = refusal(granter_roles=granter, own_account=own, before=before, after=after)
    assert (why.status if why else None) == status
    if why:
        assert why.message and why.message_en  # bilingual


def test_the_message_names_the_duties():
    why = refusal(granter_roles=["security_admin"], own_account=False, before=[], after=["audit_admin"])
    assert why and "安全管理员" in why.message and "审计管理员" in why.message
    assert "audit administrator" in why.message_en
