"""The printable documents of a legal-aid case (services/aid/document.py) on the real database:
一次性告知书 with every missing item and the deadline, 给予 / 不予法律援助决定书 with the basis or the
reasons and the remedy, 指派通知书 to the lawyer's firm — personal data masked, the office named
by its county, no product name; and a clear 409 for a document not issued yet."""

from __future__ import annotations

from datetime import UTC, datetime

from libs.common.clock import FrozenClock
from libs.common.testing.auth import auth
from libs.common.testing.infra import services
from tests.integration.test_aid_case_flow import ID_NUMBER, application

COUNTY = "140430"


async def test_materials_notice_decisions_and_assignment_notice(infra):
    clock = FrozenClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # Mon 10:00 in China
    async with services(infra, "aid", clock=clock) as svc:
        officer = auth("aid_officer", region=COUNTY)
        async with svc["aid"].client(headers=officer) as aid:
            # Only the ID is missing a hardship statement: the file is incomplete (Art 43).
            short = application(attachments=[{"kind": "identity"}, {"kind": "matter_materials"}])
            case = (await aid.post("/v1/applications", json=short)).json()
            assert case["missing_items"], case
            doc = await aid.get(f"/v1/cases/{case['id']}/documents/materials.html")
            assert doc.status_code == 200 and doc.headers["content-type"].startswith("text/html")
            html = doc.text
            assert "一次性告知书" in html and "沁县法律援助中心" in html and "第四十三条" in html
            assert "经济困难状况说明表" in html and "2026年" in html and "lawline" not in html.lower()
            early = await aid.get(f"/v1/cases/{case['id']}/documents/decision.html")
            assert early.status_code == 409 and "尚未作出" in early.json()["detail"]

            ok = (await aid.post("/v1/applications", json=application())).json()
            await aid.post(f"/v1/cases/{ok['id']}/decision", json={"decision": "grant"})
            html = (await aid.get(f"/v1/cases/{ok['id']}/documents/decision.html")).text
            assert (
                "给予法律援助决定书" in html and "劳动争议调解与仲裁代理" in html and "追索劳动报酬" in html
            )
            assert "第四十一条" in html and ID_NUMBER not in html and "1101**********002X" in html
            assert (await aid.get(f"/v1/cases/{ok['id']}/documents/assignment.html")).status_code == 409
            await aid.post(f"/v1/cases/{ok['id']}/assign", json={})
            assigned = (await aid.get(f"/v1/cases/{ok['id']}")).json()
            html = (await aid.get(f"/v1/cases/{ok['id']}/documents/assignment.html")).text
            assert "指派通知书" in html and assigned["lawyer_name"] in html
            assert (assigned["lawyer_firm"] or "承办单位") in html and "13834567890" not in html

            rich = {"household_size": 1, "monthly_income": "9000", "verification": "honesty_commitment"}
            no = (await aid.post("/v1/applications", json=application(means=rich))).json()
            await aid.post(f"/v1/cases/{no['id']}/decision", json={"decision": "refuse"})
            html = (await aid.get(f"/v1/cases/{no['id']}/documents/decision.html")).text
            assert "不予法律援助决定书" in html and "高于本省标准" in html and "第四十九条" in html
            assert "五日内" in html

            assert (await aid.get(f"/v1/cases/{no['id']}/documents/bogus.html")).status_code == 404
