"""A walk-in at the counter (issue #16): the clerk files it with the visitor's ID number (checked
as typed) and hands over a printable 受理回执 — the office and window that received it, the
order number and how to follow it, the phone masked, no product names."""

from __future__ import annotations

import re

import pytest

from libs.common.testing.infra import consumers_ready, serve, services
from services.console.main import create_app
from services.console.settings import ConsoleSettings
from services.identity import domain as identity
from tests.browser.test_console_operator_form import routed
from tests.integration.intake_helpers import make_id

pytestmark = pytest.mark.browser

CLERK = "counter_140403"


async def test_a_walk_in_gets_a_printable_receipt(infra, browser, shots):
    # dispatch too: the walk-in is routed here, not by a later test's dispatch (shared broker).
    async with services(infra, "identity", "intake", "dispatch") as svc:
        console = await serve(
            "console",
            create_app(
                ConsoleSettings(),
                intake=svc["intake"].url,
                identity=svc["identity"].url,
                dispatch=svc["dispatch"].url,
                aid="http://127.0.0.1:9",
                mediation="http://127.0.0.1:9",
            ),
        )
        try:
            await consumers_ready(*svc.values())
            ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page = await ctx.new_page()
            base = console.url
            await page.goto(f"{base}/login")
            await page.locator("input[name=username]").fill(CLERK)
            await page.locator("input[name=password]").fill(identity.DEMO_PASSWORD)
            await page.locator("form[action='/login'] button[type=submit]").click()
            await page.wait_for_url(re.compile(r"/(counter|operator)$"))
            await page.goto(f"{base}/operator")
            assert not await page.locator("#answered").count()  # a walk-in is not a call

            await page.locator("#phone").fill("13800138000")
            await page.locator("#name").fill("郭建平")
            await page.get_by_test_id("id_number").fill(make_id("140403", "19800101", "013"))
            assert "校验位正确" in await page.get_by_test_id("id-feedback").inner_text()
            await page.get_by_test_id("county").select_option("140403")
            await page.locator("#description").fill("公司拖欠我两个月工资，想咨询怎么讨要。")
            await page.get_by_test_id("create").click()
            number = await page.get_by_test_id("order-number").inner_text()

            async with ctx.expect_page() as opened:
                await page.get_by_test_id("receipt-link").click()
            doc = await opened.value
            await doc.get_by_test_id("receipt").wait_for()
            text = await doc.get_by_test_id("receipt").inner_text()
            clerk = next(a for a in identity.demo_accounts() if a.username == CLERK)
            assert number in text and "受理回执" in text and "郭建平" in text
            assert "窗口" in text and "138****8000" in text and "13800138000" not in text
            assert "后四位" in text and "12348" in text
            assert clerk.name in text  # 经办人
            assert (
                "lawline" not in (await doc.content()).split("<body", 1)[1].lower()
            )  # no product name on paper
            assert await doc.get_by_test_id("receipt-reply-by").count()
            await shots.take(doc, "receipt")
            order_id = (await page.get_by_test_id("order-number").get_attribute("href")).rsplit("/", 1)[1]
            await ctx.close()
            await routed(svc["dispatch"], [order_id])
        finally:
            await console.stop()
