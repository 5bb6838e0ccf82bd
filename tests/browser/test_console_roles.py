"""Each role logs in to the real console through the real identity service (demo accounts), in
headless Chromium, against the real services:
operator files a legal-aid order (live classification) → the county's legal-aid officer sees the
offer arrive live (SSE, no reload) and accepts → the same officer opens the aid case and records the
application and the grant → a mediator records consent, a session and the agreement, and opens the
printable 调解协议书 → the supervisor's figures move and the exports carry the rows."""

from __future__ import annotations

import asyncio
import io
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from libs.common.testing.auth import auth
from libs.common.testing.infra import consumers_ready, serve, services, wait_for
from services.console.main import create_app
from services.console.settings import ConsoleSettings
from services.identity import domain as identity
from tests.browser.case_steps import assert_readable, submit_step

pytestmark = pytest.mark.browser

# 潞州区: dispatch offers a legal-aid order here to the county centre's first aid officer, who is
# exactly the demo account aid_140403 (services/identity/domain.py: first member per role).
COUNTY = "140403"
PASSWORD = "Lawline@12348"


def account(username: str) -> identity.DemoAccount:
    return next(a for a in identity.demo_accounts() if a.username == username)


async def login(browser, base: str, username: str):  # type: ignore[no-untyped-def]
    """The real login form → identity's POST /v1/auth/login → the role's home screen."""
    ctx = await browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page = await ctx.new_page()
    await page.goto(f"{base}/login")
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form[action='/login'] button[type=submit]").click()
    # Not "networkidle": the counter screen keeps its event stream open for good.
    await page.wait_for_url(re.compile(r"/(operator|counter|cases|supervisor)$"))
    return page


async def tile_value(page, testid: str) -> int:  # type: ignore[no-untyped-def]
    assert not await page.get_by_test_id(f"{testid}-na").count(), f"{testid} says not available"
    return int(await page.get_by_test_id(f"{testid}-value").inner_text())


async def tile_text(page, testid: str) -> str:  # type: ignore[no-untyped-def]
    return (await page.get_by_test_id(f"{testid}-value").inner_text()).strip()


async def mediation_offer_accepted(svc, op_headers: dict) -> str:  # type: ignore[no-untyped-def]
    """A mediation order filed with the operator's real token; the township mediator it is offered
    to (no demo login of their own) accepts through dispatch's API. Returns the order id."""
    body = {
        "channel": "counter",
        "requester": {"name": "李桂英", "phone": "13912345678"},
        "region_code": COUNTY,
        "service_type": "mediation",
        "description": "邻居家空调外机噪音大还滴水，沟通无果，希望调解。",
    }
    async with (
        svc["intake"].client(headers=op_headers) as intake,
        svc["dispatch"].client(headers=auth("supervisor")) as dispatch,
    ):
        r = await intake.post("/v1/work-orders", json=body)
        assert r.status_code == 201, r.text
        order_id = r.json()["id"]

        async def offered():  # type: ignore[no-untyped-def]
            rows = (await dispatch.get("/v1/assignments", params={"work_order_id": order_id})).json()
            return rows or None

        offer = (await wait_for(offered, what="the mediation offer"))[0]
        who = auth("mediator", region=COUNTY, staff_id=offer["staff_id"])
        r = await dispatch.post(f"/v1/assignments/{offer['id']}/accept", headers=who)
        assert r.status_code == 200, r.text
    return order_id


async def test_each_role_walks_its_main_path_against_the_real_services(infra, browser, shots):
    started = time.monotonic()
    async with services(infra, "identity", "intake", "dispatch", "aid", "mediation") as svc:
        console = await serve(
            "console",
            create_app(
                ConsoleSettings(inbox_poll_seconds=0.3),  # no dev login: identity's accounts only
                intake=svc["intake"].url,
                dispatch=svc["dispatch"].url,
                aid=svc["aid"].url,
                mediation=svc["mediation"].url,
                identity=svc["identity"].url,
            ),
        )
        base = console.url
        try:
            await consumers_ready(*svc.values())
            await _walk(browser, base, svc, shots)
        finally:
            await console.stop()
    shots.publish()
    assert time.monotonic() - started < 180


async def _walk(browser, base: str, svc, shots) -> None:  # type: ignore[no-untyped-def]
    # Login screen (Chinese by default): no dev login offered; a wrong password is refused.
    ctx = await browser.new_context(viewport={"width": 1360, "height": 900})
    anon = await ctx.new_page()
    await anon.goto(f"{base}/login")
    assert "工作人员登录" in await anon.content()
    assert not await anon.get_by_test_id("dev-login").count()
    await shots.take(anon, "login")
    await anon.locator("input[name=username]").fill("op_1404")
    await anon.locator("input[name=password]").fill("wrong-password")
    await anon.locator("form[action='/login'] button[type=submit]").click()
    await anon.locator(".error").wait_for()
    await ctx.close()

    # The supervisor's baseline: every tile is a real number from intake's list.
    boss = await login(browser, base, "supervisor_1404")
    assert boss.url.endswith("/supervisor")
    today_before = await tile_value(boss, "tile-today")
    month_before = await tile_value(boss, "tile-month")
    aid_before = await tile_value(boss, "tile-aid")
    closure_before = await tile_text(boss, "tile-closure")

    # The county's legal-aid officer keeps the live inbox open.
    officer = account(f"aid_{COUNTY}")
    counter = await login(browser, base, officer.username)
    await counter.goto(f"{base}/counter")
    await counter.get_by_test_id("inbox-empty").wait_for()
    await counter.evaluate("window.__noReload = true")
    # Duty sign-in (签到) at dispatch first: the urgent order below goes to whoever is on duty
    # now — at night or at the weekend the city's 7×24 on-call tier, unless this officer is in.
    await counter.get_by_test_id("sign-in").click()
    await counter.get_by_test_id("duty").locator(".ok").wait_for()

    # The operator takes a call and files the order on one screen.
    op = await login(browser, base, "op_1404")
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
    lookup = op.get_by_test_id("lookup")
    # intake's caller lookup answered: a first-time caller has no open orders.
    await lookup.get_by_text("138****7890").wait_for()
    assert "没有在办工单" in await lookup.inner_text()
    await op.locator("#name").fill("王秀英")
    await op.get_by_test_id("county").select_option(COUNTY)
    await op.locator("#township option").nth(1).wait_for(state="attached")
    township = await op.locator("#township option").nth(1).get_attribute("value")
    await op.get_by_test_id("township").select_option(township)
    await op.locator("#village option").nth(1).wait_for(state="attached")
    village = await op.locator("#village option").nth(1).get_attribute("value")
    await op.get_by_test_id("village").select_option(village)
    await op.locator("#description").fill("老板拖欠我三个月工资一万八，我今年六十五岁了，想申请法律援助。")
    # Live classification from intake's own rules, as the description is typed.
    suggestion = op.get_by_test_id("suggestion")
    await suggestion.wait_for()
    text = await suggestion.inner_text()
    assert "法律援助" in text and "劳动" in text, text
    await op.get_by_test_id("service_type").select_option("legal_aid")
    await op.locator("input[name=special_groups][value=elderly]").check()
    await op.locator("input[name=urgency][value=urgent]").check()
    await shots.take(op, "operator")
    clicked = time.monotonic()
    await op.get_by_test_id("create").click()
    number_link = op.get_by_test_id("order-number")
    await number_link.wait_for()
    number = await number_link.inner_text()
    assert re.match(r"^LW\d{8}", number), number
    await shots.take(op, "operator-created")
    # A clean screen for the next call: the last caller's lookup and suggestion are gone, and the
    # call's start is taken afresh from the next number's first key (not from the page's load).
    assert "138****7890" not in await lookup.inner_text()
    assert await op.get_by_test_id("suggestion").count() == 0
    started = "document.querySelector('#order-form [name=call_started_at]').value"
    assert await op.evaluate(started) == ""
    await op.locator("#phone").press_sequentially("1")
    assert abs(datetime.fromisoformat(await op.evaluate(started)) - datetime.now(UTC)) < timedelta(seconds=30)
    await op.locator("#phone").fill("")

    # The offer arrives live in the officer's inbox — pushed over SSE, no reload.
    offer = counter.get_by_test_id("offer")
    await offer.wait_for(timeout=20_000)
    print(f"\n[console] order filed → offer on screen: {time.monotonic() - clicked:.2f}s")
    assert await counter.evaluate("window.__noReload") is True
    assert await offer.get_by_test_id("offer-number").inner_text() == number
    assert "潞州区" in await offer.inner_text()
    await shots.take(counter, "counter-inbox")
    await offer.get_by_test_id("accept").click()
    await counter.get_by_test_id("offer-status").filter(has_text="已接单").wait_for()

    # Order detail with its timeline and its callback task.
    await counter.get_by_test_id("offer-number").click()
    await counter.get_by_test_id("order-title").wait_for()
    assert await counter.get_by_test_id("order-title").inner_text() == number
    await counter.get_by_test_id("timeline").locator("li").first.wait_for()
    await counter.get_by_test_id("tasks").wait_for()
    # 回拨: an attempt on intake's callback task of this order.
    callback = counter.locator("form[hx-post$='/callback']")
    await callback.locator("select[name=outcome]").select_option("no_answer")
    await callback.locator("input[name=note]").fill("首次回拨无人接听")
    await callback.locator("button[type=submit]").click()
    await counter.get_by_test_id("callback-result").locator(".ok").wait_for()
    await shots.take(counter, "order-detail")

    # The case worker: the aid case opened from the accepted order; application, then the grant.
    worker = counter

    async def aid_case_listed():  # type: ignore[no-untyped-def]
        await worker.goto(f"{base}/cases")
        return await worker.get_by_test_id("case-link").count()

    await wait_for(aid_case_listed, interval=0.3, what="the aid case in the officer's list")
    await worker.get_by_test_id("case-link").first.click()
    await worker.get_by_test_id("case-number").wait_for()
    await submit_step(
        worker,
        "application",
        fill={
            "applicant.phone": "13834567890",
            "matter.cause": "追索劳动报酬",
            "matter.stage": "仲裁",
            "means.household_size": "3",
            "means.monthly_income": "1800",
        },
        select={
            "matter.category": "labour_pay",
            "requested_form": "arbitration_agency",
            "means.verification": "honesty_commitment",
        },
        check={"attachments": ("identity", "matter_materials", "hardship_statement", "honesty_commitment")},
    )
    await submit_step(
        worker, "decision", fill={"reasons": "经审查符合经济困难标准"}, select={"decision": "grant"}
    )
    assert await worker.get_by_test_id("case-status").inner_text() == "准予援助，待指派律师"
    await submit_step(worker, "assign")  # no lawyer named: aid's rotation picks one (Art 43)
    assert await worker.get_by_test_id("case-status").inner_text() == "已指派，待律师接受"
    await assert_readable(worker)
    await shots.take(worker, "case-aid")

    # English is one click away, and every label follows.
    await worker.get_by_test_id("lang").click()
    await worker.wait_for_url(re.compile(r"/cases/aid/"))
    await worker.get_by_test_id("case-number").wait_for()
    assert "Legal-aid cases" in await worker.content()
    assert "Assigned, awaiting the lawyer" in await worker.get_by_test_id("case-status").inner_text()
    await assert_readable(worker)

    # A second call, answered on the spot: the order is closed at once and the caller rates it.
    await op.goto(f"{base}/operator")
    await op.locator("#phone").fill("13700001111")
    await op.locator("#name").fill("张志强")
    await op.get_by_test_id("county").select_option(COUNTY)
    await op.locator("#description").fill("请问申请劳动仲裁需要准备哪些材料？")
    await op.get_by_test_id("service_type").select_option("consultation")
    await op.locator("#answered").check()
    await op.locator("textarea[name=answer_summary]").fill("已告知仲裁申请书、劳动关系证明和证据材料清单。")
    await op.get_by_test_id("create").click()
    await op.get_by_test_id("order-number").wait_for()
    assert "已办结" in await op.get_by_test_id("created-order").inner_text()
    rating = op.locator("form[hx-post$='/rating']")
    await rating.locator("input[name=score]").fill("5")
    await rating.locator("button[type=submit]").click()
    await op.get_by_test_id("rating-result").locator(".ok").wait_for()

    # The supervisor's figures moved: today's and this month's orders, 办结率 and 满意度 (one of the
    # two orders closed, rated 5/5), and the legal-aid cases.
    await boss.goto(f"{base}/supervisor")
    assert await tile_value(boss, "tile-today") == today_before + 2
    assert await tile_value(boss, "tile-month") == month_before + 2
    assert closure_before == "—" and await tile_text(boss, "tile-closure") == "50.0%"
    assert await tile_text(boss, "tile-satisfaction") == "100.0%"
    # SLA is judged on closed orders that had a deadline; an answer given on the call had none yet.
    assert await tile_text(boss, "tile-sla") == "—"
    assert await tile_value(boss, "tile-aid") == aid_before + 1
    assert "潞州区" in await boss.get_by_test_id("ranking").inner_text()
    await shots.take(boss, "supervisor")
    # Drill-down: the month's figure opens exactly the orders behind it.
    await boss.get_by_test_id("tile-month-value").click()
    await boss.get_by_test_id("orders").wait_for()
    assert number in await boss.get_by_test_id("orders").inner_text()
    # A period picked backwards is refused beside the field; the figures stay on screen.
    await boss.goto(f"{base}/supervisor?from=2026-11-30&to=2026-11-01")
    assert "结束日期不能早于开始日期" in await boss.get_by_test_id("period-to-error").inner_text()
    assert await tile_value(boss, "tile-month") == month_before + 2

    # The order list, filtered the way intake filters it.
    await boss.goto(f"{base}/orders?channel=hotline&region_prefix={COUNTY}")
    await boss.get_by_test_id("orders").wait_for()
    assert number in await boss.get_by_test_id("orders").inner_text()
    await shots.take(boss, "orders")

    # Exports: every order row and every aid case, CSV and Excel.
    await boss.goto(f"{base}/supervisor")
    async with boss.expect_download() as dl:
        await boss.get_by_test_id("export-orders-csv").click()
    text = (await asyncio.to_thread(Path(await (await dl.value).path()).read_bytes)).decode("utf-8-sig")
    # Chinese headers and labels, the county filled in, China time (the figures' own export).
    header, *lines = text.splitlines()
    assert (
        header.startswith("工单号,状态,受理渠道,服务类型") and "办结时间" in header and "满意度评分" in header
    )
    mine = next(line for line in lines if line.startswith(number))
    assert ",12348热线," in mine and ",潞州区," in mine and ",in_progress," not in mine
    async with boss.expect_download() as dl:
        await boss.get_by_test_id("export-aid-csv").click()
    text = (await asyncio.to_thread(Path(await (await dl.value).path()).read_bytes)).decode("utf-8-sig")
    assert len(text.splitlines()) == 2
    r = await boss.context.request.get(f"{base}/supervisor/export.xlsx?dataset=aid_cases")
    assert r.ok and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(
        openpyxl.load_workbook(io.BytesIO(await r.body()), read_only=True).active.iter_rows(values_only=True)
    )
    assert rows[0][:2] == ("案件编号", "状态") and len(rows) == 2
    assert rows[1][0] == text.splitlines()[1].split(",")[0]  # the same case in both formats

    # The mediator: parties, consent, a session, the written agreement and its printable document.
    async with svc["identity"].client() as ident:
        r = await ident.post("/v1/auth/login", json={"username": "op_1404", "password": PASSWORD})
        op_headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    order_id = await mediation_offer_accepted(svc, op_headers)
    mediator = await login(browser, base, f"mediator_{COUNTY}")
    assert mediator.url.endswith("/cases")

    async def mediation_case():  # type: ignore[no-untyped-def]
        await mediator.goto(f"{base}/cases")
        link = mediator.get_by_test_id("cases-mediation").get_by_test_id("case-link")
        return await link.count()

    await wait_for(mediation_case, interval=0.3, what="the mediation case in the mediator's list")
    await mediator.get_by_test_id("cases-mediation").get_by_test_id("case-link").first.click()
    await mediator.get_by_test_id("case-number").wait_for()
    assert order_id in await mediator.locator("a[href^='/orders/']").first.get_attribute("href")
    await submit_step(
        mediator,
        "parties",
        fill={"parties.0.name": "赵建国", "parties.0.phone": "13912340000"},
        select={"parties.0.side": "respondent"},
    )
    # 人民调解法 Art 17: every party agrees — the applicant did by applying, the respondent now.
    await submit_step(mediator, "consents", select={"decision": "given"})
    await submit_step(
        mediator, "sessions", fill={"scheduled_at": "2026-12-01T09:30", "location": "潞州区调委会调解室"}
    )
    # Art 22, 27, 28: the session is held and recorded before any agreement.
    await submit_step(mediator, "record", fill={"notes": "双方陈述，调解员释法说理"})
    await submit_step(
        mediator,
        "agreement",
        fill={
            "facts": "被申请人空调外机噪音大且滴水，影响申请人休息。",
            "disputed_points": "外机位置与噪音",
            "responsibilities": "被申请人负主要责任",
            "terms": "被申请人于十日内移装外机并加装接水管。",
            "performance_manner": "自行移装",
            "performance_deadline": "2026-12-15",
        },
    )
    await assert_readable(mediator)
    await shots.take(mediator, "case-mediation")
    href = await mediator.get_by_test_id("agreement-link").get_attribute("href")
    await mediator.goto(f"{base}{href}")
    assert "调解协议书" in await mediator.content()
    await shots.take(mediator, "agreement")

    for page in (boss, op, worker, mediator):
        await page.context.close()
