"""The citizen form's plain-word answers become intake's fields; intake's errors land beside
the right field; a 429's wait is said in minutes or seconds."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager

import httpx

from libs.common.embedded import free_port
from services.console.api_citizen import citizen_payload, field_errors, wait_text
from services.console.main import create_app
from services.console.service import BackendError
from services.console.settings import ConsoleSettings


def test_plain_answers_map_to_intake_fields_and_nothing_ticked_leaves_urgency_to_intake():
    form = {
        "name": " 郝秀兰 ",
        "phone": "13811140007",
        "county": "140429",
        "township": "140429003",
        "village": "",
        "description": " 公司拖欠工资 ",
        "special_groups": ["migrant_worker", "elderly", "made_up"],
        "violence": "1",
        "danger": "1",
    }
    body = citizen_payload(form)
    assert body == {
        "requester": {"name": "郝秀兰", "phone": "13811140007"},
        "region_code": "140429003",  # the finest level chosen
        "description": "公司拖欠工资",
        "special_groups": ["elderly", "migrant_worker"],
        "urgency": "critical",  # the highest "yes" wins
    }
    assert citizen_payload({**form, "danger": ""})["urgency"] == "urgent"
    plain = citizen_payload({"county": "140429", "description": "x"})
    assert "urgency" not in plain and "special_groups" not in plain


def test_intake_errors_go_beside_their_fields_in_the_page_language():
    exc = BackendError(
        422,
        {
            "errors": [
                {"field": "requester.phone", "message": "电话号码格式不正确", "message_en": "invalid phone"},
                {"field": "region_code", "message": "区划代码不存在", "message_en": "unknown region"},
                {"field": "web.portal", "message": "取值无效", "message_en": "invalid"},
            ]
        },
    )
    assert field_errors(exc, "zh") == (
        {"phone": "电话号码格式不正确", "region": "区划代码不存在"},
        ["取值无效"],
    )
    assert field_errors(exc, "en")[0]["phone"] == "invalid phone"
    assert field_errors(BackendError(422, {"detail": "坏了"}), "zh") == ({}, ["坏了"])


def test_the_wait_reads_in_minutes_or_seconds():
    assert wait_text("3599", "zh") == "60 分钟" and wait_text(61, "en") == "2 min"
    assert wait_text("40", "zh") == "40 秒" and wait_text(None, "zh") == "1 分钟"


@asynccontextmanager
async def console():  # type: ignore[no-untyped-def]
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens: intake is unreachable
    app = create_app(ConsoleSettings(), intake=down, dispatch=down, aid=down, mediation=down, identity=down)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as client:
            yield client


FORM = {"description": "公司拖欠工资", "county": "140429", "name": "郝某", "phone": "13811140007"}


async def test_the_pages_need_no_login_and_a_stale_form_comes_back_filled_in():
    async with console() as c:
        page = await c.get("/citizen")
        assert page.status_code == 200 and 'name="viewport"' in page.text and "/logout" not in page.text
        assert "市民服务" in (await c.get("/login")).text
        stale = await c.post("/citizen/requests", data={**FORM, "csrf_token": "forged"})
        assert stale.status_code == 403 and "页面已过期" in stale.text and "公司拖欠工资" in stale.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', stale.text).group(1)
        down = await c.post("/citizen/requests", data={**FORM, "csrf_token": token})
        assert down.status_code == 503 and "网上服务暂时无法使用" in down.text and "郝某" in down.text
        # A malformed number or suffix is told beside its field, without asking intake.
        r = await c.get("/citizen/track", params={"number": "LW/../x", "phone_suffix": "12"})
        assert r.status_code == 422 and 'data-testid="error-number"' in r.text
        assert 'data-testid="error-phone_suffix"' in r.text
