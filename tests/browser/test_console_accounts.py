"""账号管理 in headless Chromium against the real identity and dispatch services: the admin
searches the accounts, sees a staff member added in dispatch arrive with no password yet,
resets it (the temporary password shown once), links an account by picking a staff member
from dispatch's list, creates a supervisor with role checkboxes and the region picker, and
disables / enables; the new supervisor's first login is forced through the password change.
Then the order detail and the inbox show the staff code of whoever has the offer."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from libs.common.testing.auth import auth
from libs.common.testing.infra import consumers_ready, serve, services, wait_for
from services.console.main import create_app
from services.console.settings import ConsoleSettings
from services.identity.domain import DEMO_PASSWORD

pytestmark = pytest.mark.browser


async def login(browser, base: str, username: str, password: str = DEMO_PASSWORD, home: str = r"/\w+$"):  # type: ignore[no-untyped-def]
    ctx = await browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page = await ctx.new_page()
    await page.goto(f"{base}/login")
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=password]").fill(password)
    await page.locator("form[action='/login'] button[type=submit]").click()
    await page.wait_for_url(re.compile(home))
    return page


async def test_admin_manages_accounts_in_the_console(infra, browser, shots):
    started = time.monotonic()
    async with services(infra, "identity", "dispatch", "intake") as svc:
        console = await serve(
            "console",
            create_app(
                ConsoleSettings(inbox_poll_seconds=0.3),
                intake=svc["intake"].url,
                dispatch=svc["dispatch"].url,
                identity=svc["identity"].url,
                aid=svc["intake"].url,
                mediation=svc["intake"].url,
            ),
        )
        try:
            await consumers_ready(*svc.values())
            await _walk(browser, console.url, svc, shots)
        finally:
            await console.stop()
    shots.publish()
    assert time.monotonic() - started < 120


async def _walk(browser, base: str, svc, shots) -> None:  # type: ignore[no-untyped-def]
    # A clerk joins 沁县's centre in dispatch: identity makes their account by the event.
    code = f"S9{uuid.uuid4().int % 10000:04d}"
    async with svc["dispatch"].client(headers=auth("admin")) as dispatch:
        point = (
            await dispatch.get("/v1/service-points", params={"county_code": "140430", "tier": "county"})
        ).json()[0]
        r = await dispatch.post(
            "/v1/staff",
            json={
                "code": code,
                "name": "郝晓燕",
                "role": "legal_worker",
                "skills": ["consultation"],
                "service_point_id": point["id"],
            },
        )
        assert r.status_code == 201, r.text

    admin = await login(browser, base, "admin")
    await admin.goto(f"{base}/accounts")
    assert await admin.locator("header nav a[href='/accounts']").count() == 1

    # Search by the code: the account is there, linked, with no password yet.
    async def arrived():  # type: ignore[no-untyped-def]
        await admin.goto(f"{base}/accounts?q={code}")
        return await admin.locator(f"[data-testid=account-row][data-username={code}]").count()

    await wait_for(arrived, timeout=20, what="the new clerk's account in the list")
    row = admin.locator(f"[data-testid=account-row][data-username={code}]")
    text = await row.inner_text()
    assert "郝晓燕" in text and "窗口工作人员" in text and "沁县" in text and "未设置密码" in text
    assert "基层法律服务工作者" in text

    # The list of 沁县's aid officers, in Chinese, for the screenshot.
    await admin.goto(f"{base}/accounts")
    await admin.get_by_test_id("account-filters").locator("select[name=region]").select_option("140430")
    await admin.get_by_test_id("account-filters").locator("button[type=submit]").click()
    await admin.wait_for_url(re.compile(r"region=140430"))
    assert await admin.get_by_test_id("account-row").count() > 20
    await shots.take(admin, "accounts")

    # Reset the clerk's password: the temporary one is shown once, in place.
    await admin.goto(f"{base}/accounts?q={code}")
    await admin.locator(f"[data-testid=account-row][data-username={code}] a").first.click()
    admin.once("dialog", lambda d: d.accept())
    await admin.get_by_test_id("account-reset").click()
    temp = (await admin.get_by_test_id("temporary-password-value").inner_text()).strip()
    assert re.fullmatch(r"\w{4}-\w{4}-\w{4}", temp), temp
    # The page says so at once: no more "no password", a temporary one to change.
    assert "待修改临时密码" in await admin.locator("#account-status").inner_text()
    assert "未设置密码" not in await admin.locator("#password-state").inner_text()
    await shots.take(admin, "account-reset")
    detail_url = admin.url

    # Unlink, then link again by picking the person from dispatch's staff list.
    admin.once("dialog", lambda d: d.accept())
    await admin.get_by_test_id("account-unlink").click()
    await admin.get_by_test_id("account-link").wait_for()
    assert "已解除关联" in await admin.locator(".flash").inner_text()
    await admin.get_by_test_id("staff-search").fill(code)
    option = admin.get_by_test_id("staff-option")
    await option.first.wait_for()
    assert "郝晓燕" in await admin.get_by_test_id("staff-options").inner_text()
    await option.first.check()
    await admin.get_by_test_id("account-link-submit").click()
    await admin.get_by_test_id("account-staff").wait_for()
    assert code in await admin.get_by_test_id("account-staff").inner_text()
    assert await admin.locator("[data-testid=account-roles] input[value=counter_staff]").is_checked()

    # Disable (only the actions the state allows are offered), then enable.
    await admin.get_by_test_id("account-disable").click()
    await admin.get_by_test_id("account-enable").wait_for()
    assert not await admin.get_by_test_id("account-disable").count()
    await admin.get_by_test_id("account-enable").click()
    await admin.get_by_test_id("account-disable").wait_for()

    # A new 沁县 supervisor: role checkboxes, the region picker, no staff link.
    await admin.goto(f"{base}/accounts/new")
    form = admin.get_by_test_id("account-create")
    await form.locator("input[name=username]").fill("duban_qinxian")
    await form.locator("input[name=name]").fill("沁县督办二")
    await form.locator("input[name=roles][value=supervisor]").check()
    await form.get_by_test_id("account-region").select_option("140430")
    await shots.take(admin, "account-new")
    await form.get_by_test_id("account-create-submit").click()
    temp2 = (await admin.get_by_test_id("temporary-password-value").inner_text()).strip()
    assert "账号已创建" in await admin.content()

    # Their first login goes through the password change, then to their screen.
    boss = await login(browser, base, "duban_qinxian", temp2, home=r"/password$")
    assert await boss.get_by_test_id("password-forced").count()
    assert await boss.get_by_test_id("password-username").inner_text() == "duban_qinxian"
    await shots.take(boss, "password-change")
    await boss.locator("input[name=new_password]").fill("duban_qinxian-1")
    await boss.locator("input[name=new_password_repeat]").fill("duban_qinxian-1")
    await boss.get_by_test_id("password-submit").click()
    await boss.get_by_test_id("password-error").wait_for()
    assert "用户名" in await boss.get_by_test_id("password-error").inner_text()
    await boss.locator("input[name=new_password]").fill("Qinxian-Duban-2026")
    await boss.locator("input[name=new_password_repeat]").fill("Qinxian-Duban-2026")
    await boss.get_by_test_id("password-submit").click()
    await boss.wait_for_url(re.compile(r"/supervisor$"))
    assert "沁县督办二" in await boss.get_by_test_id("who").inner_text()

    # The reset clerk can log in with the temporary password once, and must change it.
    clerk = await login(browser, base, code, temp, home=r"/password$")
    await clerk.locator("input[name=new_password]").fill("Qinxian-Clerk-2026")
    await clerk.locator("input[name=new_password_repeat]").fill("Qinxian-Clerk-2026")
    await clerk.get_by_test_id("password-submit").click()
    await clerk.wait_for_url(re.compile(r"/(counter|operator)$"))
    assert code in await clerk.get_by_test_id("who").inner_text()
    await admin.goto(detail_url)
    assert "从未登录" not in await admin.locator("dl.kv").inner_text()

    # Whoever has an offer is named by their staff code, on the order and in their inbox.
    order = {
        "channel": "hotline",
        "requester": {"name": "王秀英", "phone": "13834567890"},
        "region_code": "140430003",
        "description": "老板拖欠我三个月工资一万八，家里没钱请律师。",
    }
    async with (
        svc["intake"].client(headers=auth("operator", region="140430")) as intake,
        svc["dispatch"].client(headers=auth("supervisor")) as dispatch,
    ):
        r = await intake.post("/v1/work-orders", json=order, headers={"Idempotency-Key": str(uuid.uuid4())})
        assert r.status_code == 201, r.text
        order_id = r.json()["id"]

        async def offered():  # type: ignore[no-untyped-def]
            rows = (await dispatch.get("/v1/assignments", params={"work_order_id": order_id})).json()
            return rows[0] if rows else None

        offer = await wait_for(offered, timeout=30, what="the offer")
    await admin.goto(f"{base}/orders/{order_id}")
    shown = (await admin.get_by_test_id("assignment-staff-code").first.inner_text()).strip()
    assert shown == offer["staff_code"]
    await shots.take(admin, "order-handler")
    handler = await login(browser, base, shown, home=r"/(counter|cases)$")
    await handler.goto(f"{base}/counter")
    await handler.get_by_test_id("offer").first.wait_for()
    assert shown in await handler.get_by_test_id("offer-handler").first.inner_text()
