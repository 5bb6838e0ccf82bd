"""Each role logs in to the real console, in headless Chromium, against the real services:
operator files an order → counter staff sees it arrive live (no reload) and accepts →
the legal-aid case opens → supervisor's figures change → case worker opens the case."""

from __future__ import annotations

import asyncio
import io
import re
import time
from pathlib import Path

import openpyxl
import pytest

from libs.common import demo_network
from libs.common.testing.auth import auth
from libs.common.testing.infra import consumers_ready, serve, services, wait_for
from services.console.main import create_app
from services.console.settings import ConsoleSettings

pytestmark = pytest.mark.browser

COUNTY = "140430"  # 沁县
TOWNSHIP = "140430003"


def county_aid_officers(county: str) -> list[demo_network.DemoStaff]:
    _, staff = demo_network.build()
    return [
        s
        for s in staff
        if s.role == "aid_officer" and s.point.tier == "county" and s.point.county_code == county
    ]


async def login(browser, base: str, *, role: str, region: str, staff_id: str = "", name: str = "测试"):  # type: ignore[no-untyped-def]
    ctx = await browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page = await ctx.new_page()
    await page.goto(f"{base}/login")
    form = page.get_by_test_id("dev-login")
    await form.locator("select[name=role]").select_option(role)
    await form.locator("input[name=region]").fill(region)
    await form.locator("input[name=staff_id]").fill(staff_id)
    await form.locator("input[name=name]").fill(name)
    await form.locator("button[type=submit]").click()
    # Not "networkidle": the counter screen keeps its event stream open for good.
    await page.wait_for_url(re.compile(r"/(operator|counter|cases|supervisor)$"))
    return page


async def mediation_case_via_apis(svc) -> dict:  # type: ignore[no-untyped-def]
    body = {
        "channel": "counter",
        "requester": {"name": "李桂英", "phone": "13912345678"},
        "region_code": "140403",
        "service_type": "mediation",
        "description": "邻居家空调外机噪音大还滴水，沟通无果，希望调解。",
    }
    async with (
        svc["intake"].client(headers=auth("operator")) as intake,
        svc["dispatch"].client(headers=auth("supervisor")) as dispatch,
        svc["mediation"].client(headers=auth("mediator")) as mediation,
    ):
        order = (await intake.post("/v1/work-orders", json=body)).json()

        async def offered():  # type: ignore[no-untyped-def]
            rows = (await dispatch.get("/v1/assignments", params={"work_order_id": order["id"]})).json()
            return rows or None

        offer = (await wait_for(offered, what="the mediation offer"))[0]
        r = await dispatch.post(
            f"/v1/assignments/{offer['id']}/accept", headers=auth("mediator", staff_id=offer["staff_id"])
        )
        assert r.status_code == 200, r.text

        async def case():  # type: ignore[no-untyped-def]
            return (await mediation.get("/v1/cases", params={"work_order_id": order["id"]})).json() or None

        return (await wait_for(case, what="the mediation case"))[0]


async def tile_value(page, testid: str) -> int | None:  # type: ignore[no-untyped-def]
    """A dashboard number, or None when the tile says its source is not available."""
    if await page.get_by_test_id(f"{testid}-na").count():
        return None
    return int(await page.get_by_test_id(f"{testid}-value").inner_text())


async def test_operator_counter_supervisor_and_case_worker_walk_their_paths(infra, browser, shots):
    started = time.monotonic()
    async with services(infra, "intake", "dispatch", "aid", "mediation") as svc:
        settings = ConsoleSettings(dev_login=True, inbox_poll_seconds=0.3)
        console = await serve(
            "console",
            create_app(
                settings,
                intake=svc["intake"].url,
                dispatch=svc["dispatch"].url,
                aid=svc["aid"].url,
                mediation=svc["mediation"].url,
            ),
        )
        base = console.url
        try:
            await consumers_ready(*svc.values())
            officers = county_aid_officers(COUNTY)
            assert len(officers) >= 2

            # Login screen (Chinese by default), then the supervisor's baseline.
            ctx = await browser.new_context(viewport={"width": 1360, "height": 900})
            anon = await ctx.new_page()
            await anon.goto(f"{base}/login")
            assert "工作人员登录" in await anon.content()
            await shots.take(anon, "login")
            await ctx.close()

            boss = await login(browser, base, role="supervisor", region="1404", name="督办张")
            await boss.goto(f"{base}/supervisor")
            aid_before = await tile_value(boss, "tile-aid")
            today_before = await tile_value(boss, "tile-today")
            assert aid_before == 0

            # Counter staff at 沁县's legal-aid window: both officers' inboxes are open and empty.
            counters = []
            for o in officers:
                page = await login(
                    browser, base, role="counter_staff", region=COUNTY, staff_id=str(o.id), name=o.name
                )
                assert page.url.endswith("/counter")
                await page.get_by_test_id("inbox-empty").wait_for()
                await page.evaluate("window.__noReload = true")
                counters.append(page)

            # The operator takes a call and files the order on one screen.
            op = await login(browser, base, role="operator", region="1404", name="话务员李")
            assert op.url.endswith("/operator")
            # Keyboard first: the number field has focus, Tab goes to the name, Alt+D jumps to the description.
            focused = "document.activeElement && document.activeElement.id"
            assert await op.evaluate(focused) == "phone"
            await op.keyboard.press("Tab")
            assert await op.evaluate(focused) == "name"
            await op.keyboard.press("Alt+d")
            assert await op.evaluate(focused) == "description"
            await op.keyboard.press("Alt+p")
            assert await op.evaluate(focused) == "phone"
            await op.keyboard.type("13834567890")
            await op.get_by_test_id("lookup").locator(".unavailable, .muted, table, .warn").first.wait_for()
            await op.locator("#name").fill("王秀英")
            await op.get_by_test_id("county").select_option(COUNTY)
            await op.locator("#township option[value='140430003']").wait_for(state="attached")
            await op.get_by_test_id("township").select_option(TOWNSHIP)
            await op.locator("#village option").nth(1).wait_for(state="attached")
            village = await op.locator("#village option").nth(1).get_attribute("value")
            await op.get_by_test_id("village").select_option(village)
            await op.locator("#description").fill(
                "老板拖欠我三个月工资一万八，我今年六十五岁了，想申请法律援助。"
            )
            await op.get_by_test_id("suggest").locator(".unavailable, .suggestion, .error").first.wait_for()
            await op.get_by_test_id("service_type").select_option("legal_aid")
            await op.locator("input[name=special_groups][value=elderly]").check()
            await op.locator("input[name=urgency][value=urgent]").check()
            await shots.take(op, "operator")
            clicked = time.monotonic()
            await op.get_by_test_id("create").click()
            number_link = op.get_by_test_id("order-number")
            await number_link.wait_for()
            number = await number_link.inner_text()
            assert re.match(r"^LW", number), number
            await shots.take(op, "operator-created")

            # The offer arrives live in exactly one of the two inboxes — no reload.
            async def offered_page():
                for page in counters:
                    if await page.get_by_test_id("offer").count():
                        return page
                return None

            deadline = asyncio.get_running_loop().time() + 20
            counter = None
            while counter is None and asyncio.get_running_loop().time() < deadline:
                counter = await offered_page()
                await asyncio.sleep(0.2)
            assert counter is not None, "the offer never appeared in an inbox"
            print(f"\n[console] order filed → offer on screen: {time.monotonic() - clicked:.2f}s")
            assert await counter.evaluate("window.__noReload") is True  # pushed by SSE, not reloaded
            offer = counter.get_by_test_id("offer")
            assert await offer.get_by_test_id("offer-number").inner_text() == number
            assert "沁县" in await offer.inner_text()
            await shots.take(counter, "counter-inbox")
            await counter.get_by_test_id(
                "sign-in"
            ).click()  # duty sign-in: done, or clearly not available yet
            await counter.get_by_test_id("duty").locator(".ok, .unavailable").wait_for()
            await offer.get_by_test_id("accept").click()
            await counter.get_by_test_id("offer-status").filter(has_text="已接单").wait_for()
            officer = officers[counters.index(counter)]

            # Order detail with its timeline.
            await counter.get_by_test_id("offer-number").click()
            await counter.get_by_test_id("order-title").wait_for()
            assert await counter.get_by_test_id("order-title").inner_text() == number
            await counter.get_by_test_id("timeline").locator("li").first.wait_for()
            await shots.take(counter, "order-detail")

            # The supervisor's figures change: the aid case opened from the accepted order.
            async def aid_count_went_up():
                await boss.goto(f"{base}/supervisor")
                return (await tile_value(boss, "tile-aid")) == aid_before + 1

            for _ in range(60):
                if await aid_count_went_up():
                    break
                await asyncio.sleep(0.3)
            else:
                raise AssertionError("the supervisor never saw the new legal-aid case")
            today_after = await tile_value(boss, "tile-today")
            if today_before is not None:  # intake's list endpoint is deployed: today's count moved too
                assert today_after == today_before + 1
            await shots.take(boss, "supervisor")

            # The order list: searchable by filters (or clearly not available until intake lists orders).
            await boss.goto(f"{base}/orders?channel=hotline")
            await boss.locator("[data-testid=orders], [data-testid=unavailable]").first.wait_for()
            if await boss.get_by_test_id("orders").count():
                assert number in await boss.get_by_test_id("orders").inner_text()
            await shots.take(boss, "orders")
            await boss.goto(f"{base}/supervisor")

            # Export of every aid case row, as CSV.
            async with boss.expect_download() as dl:
                await boss.get_by_test_id("export-aid-csv").click()
            path = await (await dl.value).path()
            text = (await asyncio.to_thread(Path(path).read_bytes)).decode("utf-8-sig")
            assert text.splitlines()[0].startswith("number,status") and len(text.splitlines()) == 2
            r = await boss.context.request.get(f"{base}/supervisor/export.xlsx?dataset=aid_cases")
            assert r.ok and r.headers["content-type"].startswith("application/vnd.openxmlformats")
            sheet = openpyxl.load_workbook(io.BytesIO(await r.body()), read_only=True).active
            rows = list(sheet.iter_rows(values_only=True))
            assert rows[0][:2] == ("number", "status") and len(rows) == 2
            assert rows[1][0] == text.splitlines()[1].split(",")[0]  # the same case in both formats

            # The legal-aid officer opens the case and sees its steps.
            worker = await login(
                browser, base, role="aid_officer", region=COUNTY, staff_id=str(officer.id), name=officer.name
            )
            assert worker.url.endswith("/cases")
            await worker.get_by_test_id("case-link").first.click()
            await worker.get_by_test_id("case-number").wait_for()
            await worker.get_by_test_id("step-decision").wait_for()
            await shots.take(worker, "case-aid")
            step = worker.get_by_test_id("step-decision")
            await step.locator("textarea[name=reasons]").fill("经审查符合经济困难标准")
            await step.locator("button[type=submit]").click()
            await step.locator(".ok, .unavailable, .error").first.wait_for()

            # English is one click away, and every label follows.
            await worker.get_by_test_id("lang").click()
            await worker.wait_for_url(re.compile(r"/cases/aid/"))
            await worker.get_by_test_id("case-number").wait_for()
            assert "Legal-aid cases" in await worker.content()

            # A mediator: a mediation order accepted through the APIs, then worked in the console.
            case = await mediation_case_via_apis(svc)
            mediator = await login(browser, base, role="mediator", region="1404", name="调解员赵")
            assert mediator.url.endswith("/cases")
            await mediator.locator(f"a[href='/cases/mediation/{case['id']}']").click()
            await mediator.get_by_test_id("step-consent").wait_for()
            assert await mediator.get_by_test_id("case-number").inner_text() == case["number"]
            await shots.take(mediator, "case-mediation")
            await mediator.goto(f"{base}/cases/mediation/{case['id']}/agreement")
            body = await mediator.content()
            assert "调解协议书" in body or "此功能暂不可用" in body

            for page in (boss, op, worker, mediator, *counters):
                await page.context.close()
        finally:
            await console.stop()
    shots.publish()
    assert time.monotonic() - started < 150
