"""Issue #17 on the real PostgreSQL and broker: the producers emit the v2 payloads — identity's
token revocation names the account by its id and its username; an aid step names its actor by
kind, staff id and username — and the case log keeps what it kept."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, text

from libs.common.events import aid, identity
from libs.common.testing.auth import auth
from libs.common.testing.infra import services
from services.identity.domain import DEMO_PASSWORD
from tests.integration.test_aid_case_flow import COUNTY, application

OFFICER_ID = "00000000-0000-4000-8000-0000000017a1"


@pytest.fixture
def own_aid_group(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AID_SWEEP_SECONDS", "0")
    monkeypatch.setenv("AID_CONSUMER_GROUP", f"lawline-aid-test-{uuid.uuid4().hex[:8]}")


async def _events(rt, outbox, **where) -> list[dict]:  # type: ignore[no-untyped-def]
    async with rt.sessionmaker() as s:
        q = select(outbox.c.event).order_by(outbox.c.id)
        for column, value in where.items():
            q = q.where(outbox.c[column] == value)
        return [r[0] for r in (await s.execute(q)).all()]


async def test_logout_announces_token_revoked_v2_with_the_account_id_and_username(infra):
    from services.identity.models import outbox

    async with services(infra, "identity") as svc:
        ident = svc["identity"]
        async with ident.client() as c:
            r = await c.post("/v1/auth/login", json={"username": "op_140430", "password": DEMO_PASSWORD})
            tokens = r.json()
            bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
            assert (await c.post("/v1/auth/logout", headers=bearer, json={})).status_code == 204
        async with ident.rt.sessionmaker() as s:
            account_id = (
                await s.execute(text("SELECT id FROM accounts WHERE username = 'op_140430'"))
            ).scalar_one()
        revoked = [
            e for e in await _events(ident.rt, outbox) if e["type"].startswith("cn.lawline.identity.token_")
        ]
        assert revoked and all(e["type"] == identity.TOKEN_REVOKED for e in revoked)
        data = identity.TokenRevokedV2.model_validate(revoked[-1]["data"])
        assert data.account_id == str(account_id) and data.username == "op_140430"


async def test_aid_steps_name_their_actor_and_the_case_log_is_unchanged(infra, own_aid_group):
    from services.aid.models import outbox

    async with services(infra, "aid") as svc:
        officer = auth("aid_officer", region=COUNTY, staff_id=OFFICER_ID)
        async with svc["aid"].client(headers=officer) as c:
            r = await c.post("/v1/applications", json=application())
            assert r.status_code == 201, r.text
            case = r.json()
            r = await c.post(f"/v1/cases/{case['id']}/decision", json={"decision": "grant"})
            assert r.status_code == 200, r.text
            log = (await c.get(f"/v1/cases/{case['id']}/log")).json()
        steps = [
            e
            for e in await _events(svc["aid"].rt, outbox, key=case["id"])
            if e["type"] in aid.CASE_EVENT_TYPES
        ]
        assert [e["type"] for e in steps][-1] == aid.GRANTED
        for e in steps:
            assert "actor" not in e["data"], e["type"]
            step = aid.AidCaseTransitionV2.model_validate(e["data"])
            # The test token's subject is the staff id itself (libs/common/testing/auth.token).
            assert (step.actor_kind, step.actor_staff_id, step.actor_username) == (
                "staff",
                OFFICER_ID,
                OFFICER_ID,
            )
        assert not [e for e in await _events(svc["aid"].rt, outbox) if e["type"] in aid.CASE_EVENT_TYPES_V1]
        grant = next(entry for entry in log if entry["action"] == "grant")
        assert grant["actor"] == OFFICER_ID
