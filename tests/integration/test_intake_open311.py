"""Open311 GeoReport v2 round trips: discovery, form-encoded create, token, read back, list
filters, and the spec's error array — for bad input and for authentication failures; keyless
discovery and reads (public data only), optional names, jurisdiction_id, address_string and XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from libs.common.testing.auth import auth
from tests.integration.intake_helpers import clock, intake_without_broker, make_id

EXT = auth("external_system", region="1404")
FORM = {
    "service_code": "mediation",
    "address_id": "140403",
    "first_name": "建国",
    "last_name": "李",
    "phone": "13834560311",
    "description": "邻居家空调外机噪音大还滴水，沟通无果，希望调解。",
}


@pytest.fixture(scope="module")
async def intake(infra):
    async with intake_without_broker(infra, clock()) as svc:
        yield svc


def spec_errors(r) -> list[dict]:
    body = r.json()
    assert isinstance(body, list) and body and all(set(e) == {"code", "description"} for e in body), body
    return body


async def test_discovery(intake):
    async with intake.client(headers=EXT) as c:
        services = (await c.get("/open311/v2/services.json")).json()
        assert {s["service_code"] for s in services} >= {"legal_aid", "mediation", "consultation"}
        assert all(s["type"] == "realtime" and s["metadata"] is True for s in services)
        d = (await c.get("/open311/v2/services/mediation.json")).json()
        assert d["service_code"] == "mediation" and {a["code"] for a in d["attributes"]} >= {
            "domain",
            "special_groups",
        }
        r = await c.get("/open311/v2/services/plumbing.json")
        assert r.status_code == 404 and spec_errors(r)[0]["code"] == 404


async def test_round_trip(intake):
    async with intake.client(headers=EXT) as c:
        r = await c.post("/open311/v2/requests.json", data={**FORM, "attribute[special_groups][]": "elderly"})
        assert r.status_code == 201, r.text
        (created,) = r.json()
        number, token = created["service_request_id"], created["token"]
        assert number.startswith("LW")
        assert (await c.get(f"/open311/v2/tokens/{token}.json")).json() == [
            {"service_request_id": number, "token": token}
        ]
        (one,) = (await c.get(f"/open311/v2/requests/{number}.json")).json()
        assert (
            one["status"] == "open" and one["service_code"] == "mediation" and one["address_id"] == "140403"
        )
        assert one["description"] is None  # no personal free text over Open311
        listed = (
            await c.get("/open311/v2/requests.json", params={"service_code": "mediation", "status": "open"})
        ).json()
        assert number in [x["service_request_id"] for x in listed]
        assert (await c.get("/open311/v2/requests.json", params={"status": "closed"})).json() == []
        by_id = (
            await c.get("/open311/v2/requests.json", params={"service_request_id": f"{number},LW0"})
        ).json()
        assert [x["service_request_id"] for x in by_id] == [number]
        window = (
            await c.get("/open311/v2/requests.json", params={"start_date": "2026-11-25T00:00:00+08:00"})
        ).json()
        assert window == []
        # Same request with a reference twice → one order.
        a = await c.post(
            "/open311/v2/requests.json", data={**FORM, "phone": "13834560312", "attribute[reference]": "R-1"}
        )
        b = await c.post(
            "/open311/v2/requests.json", data={**FORM, "phone": "13834560312", "attribute[reference]": "R-1"}
        )
        assert a.status_code == 201 and b.status_code == 200
        assert a.json()[0]["service_request_id"] == b.json()[0]["service_request_id"]
    async with intake.client(headers=auth("operator")) as staff:
        got = (await staff.get(f"/v1/work-orders/{token}")).json()
    assert got["channel"] == "external" and got["special_groups"] == ["elderly"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"service_code": ""}, "service_code"),
        ({"service_code": "plumbing"}, "service_code"),
        ({"address_id": ""}, "address_id"),
        ({"address_id": "", "address_string": "长治市某街道 12 号"}, "address_string"),
        ({"address_id": "", "address_string": "潞州区与沁县交界"}, "address_string"),
        ({"address_id": "", "lat": "36.19", "long": "113.11"}, "lat"),
        ({"address_id": "999999"}, "address_id"),
        ({"phone": "123"}, "phone"),
        ({"phone": ""}, "phone"),
        ({"description": ""}, "description"),
        ({"attribute[domain]": "tax"}, "attribute[domain]"),
        ({"attribute[special_groups][]": "rich"}, "attribute[special_groups]"),
        ({"attribute[id_number]": "140430196502150029"}, "attribute[id_number]"),
    ],
)
async def test_bad_input_is_a_spec_error_naming_the_field(intake, change, field):
    async with intake.client(headers=EXT) as c:
        r = await c.post("/open311/v2/requests.json", data={**FORM, **change})
    assert r.status_code == 400
    assert any(e["description"].startswith(field + ":") for e in spec_errors(r)), r.json()


async def test_a_missing_phone_says_why_it_is_needed(intake):
    form = {k: v for k, v in FORM.items() if k != "phone"}
    async with intake.client(headers=EXT) as c:
        r = await c.post("/open311/v2/requests.json", data=form)
        services = (await c.get("/open311/v2/services.json")).json()
    assert r.status_code == 400
    (err,) = [e for e in spec_errors(r) if e["description"].startswith("phone:")]
    assert "回访" in err["description"]
    assert all("phone 必填" in s["description"] for s in services)


async def test_auth_errors_are_spec_shaped(intake):
    async with intake.client() as anon:
        r = await anon.post("/open311/v2/requests.json", data=FORM)
        assert r.status_code == 401 and spec_errors(r)[0]["code"] == 401
        r = await anon.get("/open311/v2/tokens/not-a-token.json")
        assert r.status_code == 401 and spec_errors(r)[0]["code"] == 401
    async with intake.client(headers=auth("operator")) as staff:
        r = await staff.post("/open311/v2/requests.json", data=FORM)
        assert r.status_code == 403 and spec_errors(r)[0]["code"] == 403
    async with intake.client(headers=EXT) as c:
        r = await c.get("/open311/v2/requests/LW20990101000001.json")
        assert r.status_code == 404 and spec_errors(r)
        r = await c.get("/open311/v2/tokens/not-a-token.json")
        assert r.status_code == 404 and spec_errors(r)


PERSONAL = ("李建国", "13834560321", make_id("140430"))


async def test_keyless_discovery_and_reads_publish_public_data_only(intake):
    async with intake.client(headers=EXT) as c:
        r = await c.post(
            "/open311/v2/requests.json",
            data={**FORM, "phone": PERSONAL[1], "attribute[id_number]": PERSONAL[2]},
        )
        assert r.status_code == 201, r.text
        number = r.json()[0]["service_request_id"]
    async with intake.client() as anon:
        services = await anon.get("/open311/v2/services.json")
        assert services.status_code == 200 and all("不公开" in s["description"] for s in services.json())
        assert (await anon.get("/open311/v2/services/legal_aid.json")).status_code == 200
        listed = await anon.get("/open311/v2/requests.json")
        one = await anon.get(f"/open311/v2/requests/{number}.json")
        assert listed.status_code == one.status_code == 200
        assert number in [x["service_request_id"] for x in listed.json()]
        assert one.json()[0]["description"] is None
        for text in (listed.text, one.text):
            assert not any(p in text for p in PERSONAL), text


async def test_names_optional_and_address_string(intake):
    form = {k: v for k, v in FORM.items() if k not in ("first_name", "last_name", "address_id")}
    async with intake.client(headers=EXT) as c:
        r = await c.post(
            "/open311/v2/requests.json",
            data={
                **form,
                "phone": "13834560331",
                "address_string": "长治市沁县新店镇 5 号",
                "email": "a@b.cn",
            },
        )
        assert r.status_code == 201, r.text
        (one,) = (await c.get(f"/open311/v2/requests/{r.json()[0]['service_request_id']}.json")).json()
        assert one["address_id"] == "140430"
        r = await c.post(
            "/open311/v2/requests.json", data={**form, "phone": "13834560332", "address_string": "武乡某村"}
        )
        assert r.status_code == 201, r.text


async def test_jurisdiction_id(intake):
    async with intake.client() as anon:
        for path in ("services.json", "services/mediation.json", "requests.json"):
            ok = await anon.get(f"/open311/v2/{path}", params={"jurisdiction_id": "changzhi.gov.cn"})
            assert ok.status_code == 200, ok.text
            r = await anon.get(f"/open311/v2/{path}", params={"jurisdiction_id": "sf.gov"})
            assert r.status_code == 404 and spec_errors(r)[0]["code"] == 404
            assert "jurisdiction" in r.json()[0]["description"]
    async with intake.client(headers=EXT) as c:
        r = await c.post("/open311/v2/requests.json", data={**FORM, "jurisdiction_id": "sf.gov"})
        assert r.status_code == 404 and spec_errors(r)
        r = await c.post(
            "/open311/v2/requests.json",
            data={**FORM, "phone": "13834560341", "jurisdiction_id": "changzhi.gov.cn"},
        )
        assert r.status_code == 201, r.text


async def test_xml(intake):
    async with intake.client() as anon:
        r = await anon.get("/open311/v2/services.xml")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
        root = ET.fromstring(r.content)
        assert root.tag == "services" and root.find("service/service_code") is not None
        assert root.find("service/metadata").text == "true"
        d = ET.fromstring((await anon.get("/open311/v2/services/mediation.xml")).content)
        assert d.tag == "service_definition" and d.find("service_code").text == "mediation"
        attr = d.find("attributes/attribute")
        assert attr.find("code").text == "domain" and attr.find("values/value/key") is not None
        listed = ET.fromstring((await anon.get("/open311/v2/requests.xml")).content)
        assert listed.tag == "service_requests"
        number = listed.find("request/service_request_id").text
        one = ET.fromstring((await anon.get(f"/open311/v2/requests/{number}.xml")).content)
        assert one.find("request/service_request_id").text == number
        r = await anon.get("/open311/v2/services/plumbing.xml")
        err = ET.fromstring(r.content)
        assert r.status_code == 404 and err.tag == "errors" and err.find("error/code").text == "404"
