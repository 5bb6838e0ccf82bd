"""Issue #17: the v2 payloads that fixed a field's meaning, and consumers that still read v1."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from libs.common.apikeys import CredentialCache
from libs.common.auth import Principal
from libs.common.events import aid, identity
from libs.common.events.envelope import make_event
from services.aid.workflow import SYSTEM, actor_of, actor_ref
from services.intake import timeline

STAFF_ID = "3b9d2f70-6c1e-4a8b-b5d4-7e0f1a2c3d4e"


def test_the_credential_cache_refuses_a_token_revoked_by_either_version():
    expires = datetime.now(UTC) + timedelta(minutes=10)
    cache = CredentialCache()
    old = identity.TokenRevokedV1(jti="a" * 32, account_id="counter_140430", expires_at=expires)
    new = identity.TokenRevokedV2(
        jti="b" * 32, account_id=str(uuid.uuid4()), username="counter_140430", expires_at=expires
    )
    cache.apply(make_event(identity.TOKEN_REVOKED_V1, source=identity.SOURCE, payload=old))
    cache.apply(make_event(identity.TOKEN_REVOKED, source=identity.SOURCE, payload=new))
    assert cache.jti_revoked("a" * 32) and cache.jti_revoked("b" * 32) and not cache.jti_revoked("c" * 32)
    assert cache.events_seen == 2


def test_actor_names_kind_staff_id_and_username_and_keeps_the_case_log_string():
    staff = Principal(
        sub="aid_140430", kind="staff", roles=frozenset({"aid_officer"}), region="140430", staff_id=STAFF_ID
    )
    got = actor_ref(staff)
    assert (got.kind, got.staff_id, got.username, got.key_id) == ("staff", STAFF_ID, "aid_140430", None)
    assert actor_of(staff) == STAFF_ID  # the case log and the case's records keep what they kept
    admin = Principal(sub="admin_1404", kind="staff", roles=frozenset({"admin"}), region="1404")
    assert (actor_ref(admin).staff_id, actor_ref(admin).username, actor_of(admin)) == (
        None,
        "admin_1404",
        "admin_1404",
    )
    # A staff_id claim that is not our UUID (another IdP) is no `actor_staff_id`.
    odd = Principal(sub="u1", kind="staff", roles=frozenset(), region="14", staff_id="HR-0042")
    assert actor_ref(odd).staff_id is None and actor_of(odd) == "HR-0042"
    key = Principal(
        sub="apikey:3fa94c0e12ab", kind="api_key", roles=frozenset({"external_system"}), region="1404"
    )
    assert (actor_ref(key).kind, actor_ref(key).key_id, actor_ref(key).username) == (
        "api_key",
        "3fa94c0e12ab",
        None,
    )
    assert actor_ref(None) is SYSTEM and actor_of(None) == "system"


def test_every_aid_step_has_a_v1_and_a_v2_type_and_they_read_the_same_on_the_timeline():
    assert len(aid.CASE_EVENT_TYPES) == len(aid.CASE_EVENT_TYPES_V1) == len(aid.V1_OF)
    for v2, v1 in aid.V1_OF.items():
        assert v2.endswith(".v2") and v1 == v2.removesuffix(".v2") + ".v1"
        data = {"case_number": "FY140430202600017"}
        assert timeline.step_for(v1, data) == timeline.step_for(v2, data), v2


def test_v2_transition_is_what_the_workflow_builds_from_an_actor():
    step = aid.AidCaseTransitionV2(
        case_id=str(uuid.uuid4()),
        case_number="FY140430202600017",
        work_order_id=None,
        county_code="140430",
        action="withdraw",
        from_state="incomplete",
        to_state="withdrawn",
        actor_kind=SYSTEM.kind,
        at=datetime.now(UTC),
    )
    dumped = step.model_dump(mode="json")
    assert "actor" not in dumped and dumped["actor_staff_id"] is None and dumped["actor_username"] is None
