"""网络平台 in headless Chromium on a phone-sized screen, against the real intake: a citizen
finds the citizen pages from the login page, files a request down to the village, is told
beside the phone field that the number is wrong, fixes it and gets the order number and the
tracking code; tracks it (the timeline, no personal data; the same answer for a wrong
suffix and a wrong number); once the order is closed, rates it and sees the rating."""

from __future__ import annotations

import re
import time

import pytest

from libs.common.ratelimit import limiter
from libs.common.testing.auth import auth
from libs.common.testing.infra import serve
from services.console.main import create_app
from services.console.settings import ConsoleSettings
from tests.integration.intake_helpers import clock, intake_without_broker

pytestmark = pytest.mark.browser

# An iPhone 12-sized screen: the page must work one-handed, with no sideways scrolling.
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "zh-CN"}
OP = auth("operator", region="1404")


@pytest.fixture
def fresh_limits():  # type: ignore[no-untyped-def]
    limiter.cache_clear()  # the limiter's memory store is process-wide
    yield
    limiter.cache_clear()


async def test_a_citizen_files_tracks_and_rates_on_a_phone(infra, browser, shots, fresh_limits):
    started = time.monotonic()
    # Intake alone, its outbox not relayed: this order must not reach other tests' dispatch.
    async with intake_without_broker(infra, clock()) as intake:
        console = await serve(
            "console",
            create_app(
                ConsoleSettings(),
                intake=intake.url,
                dispatch=intake.url,
                aid=intake.url,
                mediation=intake.url,
                identity=intake.url,
            ),
            credentials="none",
        )
        try:
            ctx = await browser.new_context(**PHONE)
            page = await ctx.new_page()
            number, suffix = await _file(page, console.url, shots)
            await _track(page, console.url, number, suffix, shots)
            await _close(intake, number)
            await _rate(page, shots)
            await ctx.close()
        finally:
            await console.stop()
    shots.publish()
    assert time.monotonic() - started < 90


async def _no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px screen"


async def _file(page, base: str, shots) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    await page.goto(f"{base}/login")
    await page.get_by_test_id("citizen-link").click()
    await page.wait_for_url(re.compile(r"/citizen$"))
    await page.locator("#description").fill("公司拖欠我三个月工资一万二，老板一直推脱不给，想申请法律援助。")
    await page.get_by_test_id("county").select_option("140429")
    # The cascade is htmx's: the township list arrives from /regions/options.
    await page.locator("#township option[value='140429003']").wait_for(state="attached")
    await page.get_by_test_id("township").select_option("140429003")
    await page.locator("#village option[value='140429003002']").wait_for(state="attached")
    await page.get_by_test_id("village").select_option("140429003002")
    await page.locator("#name").fill("郝秀兰")
    await page.get_by_test_id("phone").fill("1381114")  # a digit group short
    await page.get_by_label("我是农民工（如讨要工资、工伤）").check()
    await page.get_by_label("很快就要开庭、仲裁，或期限快到了（如明天开庭、上诉期最后几天）").check()
    await _no_sideways_scroll(page)
    await shots.take(page, "citizen-form")
    await page.get_by_test_id("submit").click()

    # Intake's own message, beside the phone field and named in the summary; nothing typed is lost.
    error = page.get_by_test_id("error-phone")
    await error.wait_for()
    assert "电话号码格式不正确" in await error.inner_text()
    assert await page.locator("#phone + .field-error").get_attribute("data-testid") == "error-phone"
    assert await page.locator("#phone").get_attribute("aria-invalid") == "true"
    summary = await page.get_by_test_id("errors").inner_text()
    assert "手机号码" in summary and "电话号码格式不正确" in summary
    assert "拖欠" in await page.locator("#description").input_value()
    assert await page.get_by_test_id("village").input_value() == "140429003002"
    assert await page.get_by_label("我是农民工（如讨要工资、工伤）").is_checked()
    await _no_sideways_scroll(page)
    await shots.take(page, "citizen-form-error")

    await page.get_by_test_id("phone").fill("13811140007")
    await page.get_by_test_id("submit").click()
    await page.get_by_test_id("done").wait_for()
    number = (await page.get_by_test_id("number").inner_text()).strip()
    assert re.fullmatch(r"LW\d{14}", number), number
    assert (await page.get_by_test_id("tracking-code").inner_text()).strip() == f"{number}-0007"
    await _no_sideways_scroll(page)
    await shots.take(page, "citizen-done")
    return number, "0007"


async def _track(page, base: str, number: str, suffix: str, shots) -> None:  # type: ignore[no-untyped-def]
    await page.get_by_test_id("see-progress").click()
    await page.get_by_test_id("tracked").wait_for()
    assert (await page.get_by_test_id("status").inner_text()).strip() == "已受理"
    timeline = await page.get_by_test_id("timeline").inner_text()
    assert f"已受理（网络平台），工单号 {number}" in timeline
    body = await page.locator("main").inner_text()
    assert "郝秀兰" not in body and "13811140007" not in body and "拖欠" not in body
    assert not await page.get_by_test_id("rate-form").count()  # not closed yet
    await _no_sideways_scroll(page)
    await shots.take(page, "citizen-track")

    # From the form, as someone who kept the code: a wrong suffix and a wrong number read alike.
    answers = []
    for n, s in ((number, "1234"), ("LW20991231999999", suffix)):
        await page.goto(f"{base}/citizen/track")
        await page.locator("#number").fill(n)
        await page.locator("#phone_suffix").fill(s)
        await page.get_by_test_id("track").click()
        answers.append(await page.get_by_test_id("notice").inner_text())
    assert answers[0] == answers[1] and "没有找到该工单" in answers[0]
    # The tracking code pasted whole into the number field works too.
    await page.goto(f"{base}/citizen/track")
    await page.locator("#number").fill(f"{number}-{suffix}")
    await page.get_by_test_id("track").click()
    await page.get_by_test_id("tracked").wait_for()


async def _close(intake, number: str) -> None:  # type: ignore[no-untyped-def]
    """Staff call the citizen back and close the order (intake's API, an operator's token)."""
    async with intake.client(headers=OP) as c:
        order = (await c.get("/v1/work-orders", params={"q": number})).json()["items"][0]
        assert order["channel"] == "web"
        tasks = (await c.get("/v1/tasks", params={"work_order_id": order["id"]})).json()
        r = await c.post(
            f"/v1/tasks/{tasks[0]['id']}/attempts", json={"outcome": "reached", "note": "已电话联系"}
        )
        assert r.status_code == 200, r.text
        r = await c.post(
            f"/v1/work-orders/{order['id']}/close", json={"result_summary": "已指派律师代理讨薪"}
        )
        assert r.status_code == 200, r.text


async def _rate(page, shots) -> None:  # type: ignore[no-untyped-def]
    await page.reload()
    form = page.get_by_test_id("rate-form")
    await form.wait_for()
    assert (await page.get_by_test_id("status").inner_text()).strip() == "已办结"
    await form.get_by_test_id("rate").click()  # no score chosen: told beside the scores
    assert "请选择 1–5 分" in await page.get_by_test_id("error-score").inner_text()
    form = page.get_by_test_id("rate-form")
    await form.get_by_label("5 非常满意").check()
    await form.locator("#comment").fill("律师很耐心")
    await form.get_by_test_id("rate").click()
    rated = await page.get_by_test_id("rated").inner_text()
    assert "感谢您的评价" in rated and "5 非常满意" in rated
    assert not await page.get_by_test_id("rate-form").count()  # rated once
    await _no_sideways_scroll(page)
    await shots.take(page, "citizen-rated")
    # English is one tap away, and the order stays on screen.
    await page.get_by_test_id("lang").click()
    await page.get_by_test_id("tracked").wait_for()
    assert (await page.get_by_test_id("status").inner_text()).strip() == "Closed"
    assert "5 very satisfied" in await page.get_by_test_id("rated").inner_text()
