"""Object-level access declarations (libs.common.auth): per role, what lets the caller see one
object; every allowed role must be told, and the rule itself is pure."""

from __future__ import annotations

import itertools

import pytest

from libs.common.auth import (
    HANDLER,
    HOLDER,
    JURISDICTION,
    Principal,
    allow,
    in_jurisdiction,
    object_access,
    object_visible,
)
from services.dispatch import access as dispatch_access
from services.intake import access as intake_access


def test_grants_by_role():
    a = object_access(
        jurisdiction=("operator", "supervisor"), holder=("lawyer", "operator"), handler=("lawyer",)
    )
    assert a.roles() == {"operator", "supervisor", "lawyer"}
    assert a.grants(frozenset({"lawyer"})) == {HOLDER, HANDLER}
    assert a.grants(frozenset({"operator"})) == {JURISDICTION, HOLDER}
    assert a.grants(frozenset({"mediator"})) == frozenset()
    assert a.grants(frozenset({"lawyer", "supervisor"})) == {JURISDICTION, HOLDER, HANDLER}


@pytest.mark.parametrize(("inside", "holds", "handles"), list(itertools.product((False, True), repeat=3)))
def test_object_visible(inside, holds, handles):
    handles = handles and holds  # one who handles an order holds it
    assert object_visible(frozenset(), in_jurisdiction=inside, holds=holds, handles=handles) is False
    assert (
        object_visible(frozenset({JURISDICTION}), in_jurisdiction=inside, holds=holds, handles=handles)
        is inside
    )
    assert object_visible(frozenset({HOLDER}), in_jurisdiction=inside, holds=holds, handles=handles) is holds
    assert (
        object_visible(frozenset({HANDLER}), in_jurisdiction=inside, holds=holds, handles=handles) is handles
    )


def test_jurisdiction_is_a_region_prefix():
    county = Principal(sub="s", kind="staff", roles=frozenset({"operator"}), region="140430")
    assert in_jurisdiction(county, "140430003") and not in_jurisdiction(county, "140429001")
    everywhere = Principal(sub="s", kind="staff", roles=frozenset({"admin"}), region="")
    assert in_jurisdiction(everywhere, "140429001")


def test_a_rule_must_tell_every_role_it_allows_which_objects_it_sees():
    with pytest.raises(ValueError, match="object access"):
        allow("operator", "lawyer", objects=object_access(jurisdiction=("operator",)))
    with pytest.raises(ValueError, match="object access"):
        allow("operator", objects=object_access(jurisdiction=("operator",), holder=("lawyer",)))
    with pytest.raises(ValueError, match="unknown roles"):
        object_access(holder=("janitor",))


def test_the_case_working_roles_see_only_their_own_work():
    """A lawyer read every order of the county (39 of 39 in 沁县); now: only what they hold."""
    for role in intake_access.CASE_WORKERS:
        assert intake_access.READ_ORDER.grants(frozenset({role})) == {HOLDER}
        assert intake_access.CONTACT.grants(frozenset({role})) == {HANDLER}
        assert dispatch_access.ORDER_OFFERS.grants(frozenset({role})) == {HOLDER}
    for role in ("operator", "counter_staff", "supervisor"):
        assert JURISDICTION in intake_access.READ_ORDER.grants(frozenset({role}))
        assert JURISDICTION in intake_access.CONTACT.grants(frozenset({role}))
    # Return visits stay with the front desk; the callback goes with the order to its handler.
    assert intake_access.TASKS.grants(frozenset({"lawyer"})) == {HANDLER}
