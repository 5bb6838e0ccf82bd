"""Aid with tokens from an external IdP: a staff id that is not one of our UUIDs is denied
gracefully (no rows, 404), never a 500 — and a lawyer without a staff id sees no unassigned case."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from libs.common.clock import FrozenClock
from libs.common.testing.auth import auth
from libs.common.testing.infra import services

COUNTY = "140430"


def application() -> dict:
    return {
        "region_code": "140430003",
        "applicant": {"name": "王秀英", "id_number": "11010519491231002X", "phone": "13834567890"},
        "matter": {
            "category": "labour_pay",
            "cause": "追索劳动报酬",
            "stage": "劳动仲裁",
            "opposing_parties": ["沁县某建筑公司"],
            "description": "拖欠三个月工资一万八千元",
        },
        "requested_form": "arbitration_agency",
        "means": {"household_size": 3, "monthly_income": "3000", "verification": "honesty_commitment"},
        "attachments": [
            {"kind": k} for k in ("identity", "matter_materials", "hardship_statement", "honesty_commitment")
        ],
    }


@pytest.fixture
def quiet_aid(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AID_SWEEP_SECONDS", "0")
    monkeypatch.setenv("AID_CONSUMER_GROUP", f"lawline-aid-test-{uuid.uuid4().hex[:8]}")


async def test_non_uuid_staff_ids_are_denied_not_500(infra, quiet_aid):
    clock = FrozenClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    async with services(infra, "aid", clock=clock) as svc:
        # An officer signed in through an external IdP files a window application.
        officer = auth("aid_officer", region=COUNTY, staff_id="okta|00u1abcd")
        async with svc["aid"].client(headers=officer) as aid:
            r = await aid.post("/v1/applications", json=application())
            assert r.status_code == 201, r.text
            case_id = r.json()["id"]
            assert [c["id"] for c in (await aid.get("/v1/cases")).json()] == [case_id]

        for lawyer in (
            auth("lawyer", region=COUNTY, staff_id="okta|00u9lawyer"),  # not a UUID
            auth("lawyer", region=COUNTY),  # no staff id at all
        ):
            async with svc["aid"].client(headers=lawyer) as aid:
                listed = await aid.get("/v1/cases")
                assert listed.status_code == 200 and listed.json() == []
                one = await aid.get(f"/v1/cases/{case_id}")
                assert one.status_code == 404
                assert one.headers["content-type"].startswith("application/problem+json")
