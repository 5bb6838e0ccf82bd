"""The operator's form as a shift uses it (issue #16), in headless Chromium against the real
identity and intake: intake's field errors beside their fields under the label the operator sees;
the ID number's check digit judged while typing; length counters; a draft that survives a reload;
a known caller's details filled in from their history; 并入此单 (the call merged into the caller's
open order as an urge) and the closed and merged orders shown as the caller's history."""

from __future__ import annotations

import re

import pytest

from libs.common.testing.auth import auth
from libs.common.testing.infra import consumers_ready, serve, services, wait_for
from services.console.main import create_app
from services.console.settings import ConsoleSettings
from tests.integration.intake_helpers import make_id

pytestmark = pytest.mark.browser

PASSWORD = "Lawline@12348"
PHONE = "13700001234"


async def login(browser, base: str, username: str):  # type: ignore[no-untyped-def]
    ctx = await browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page = await ctx.new_page()
    await page.goto(f"{base}/login")
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form[action='/login'] button[type=submit]").click()
    await page.wait_for_url(re.compile(r"/operator$"))
    return page


async def pick_place(page, township: bool = True) -> None:  # type: ignore[no-untyped-def]
    await page.get_by_test_id("county").select_option("140430")  # 沁县
    if township:
        await page.locator("#township option[value='140430002']").wait_for(state="attached")
        await page.get_by_test_id("township").select_option("140430002")


async def test_operator_form_errors_id_check_draft_prefill_merge_and_history(infra, browser, shots):
    # dispatch too: the orders filed here are routed here, not by a later test's dispatch (the
    # session broker is shared, each consumer group resumes where it left off).
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
            ids = await _walk(browser, console.url, svc, shots)
            await routed(svc["dispatch"], ids)
        finally:
            await console.stop()


async def routed(dispatch, order_ids: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Dispatch has decided on each order: its events are consumed in this test, not a later one."""
    async with dispatch.client(headers=auth("supervisor")) as d:
        for oid in order_ids:

            async def decided(oid: str = oid):  # type: ignore[no-untyped-def]
                return (await d.get(f"/v1/work-orders/{oid}/decision")).status_code == 200 or None

            await wait_for(decided, timeout=30, what=f"dispatch's decision on {oid}")


async def _walk(browser, base: str, svc, shots) -> list[str]:  # type: ignore[no-untyped-def]
    op = await login(browser, base, "op_1404")

    # ID number: judged as it is typed (GB 11643 check digit), before intake ever sees it.
    good = make_id("140430", "19650215", "002")
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    idn, feedback = op.get_by_test_id("id_number"), op.get_by_test_id("id-feedback")
    await idn.fill(good[:17])
    assert "还差 1 位" in await feedback.inner_text()
    await idn.fill(wrong)
    assert "校验位不对" in await feedback.inner_text() and good[17] in await feedback.inner_text()
    await idn.fill(good)
    assert "校验位正确" in await feedback.inner_text()

    # A number intake refuses: its message beside the phone field, the summary names the label.
    await op.locator("#phone").fill("12345")
    await op.locator("#name").fill("韩秀兰")
    await pick_place(op)
    await op.locator("#description").fill("村里承包地被邻居占了一半，想找人调解。")
    assert (await op.locator("small.counter").first.inner_text()).strip().startswith("19 / 5000")
    await op.get_by_test_id("create").click()
    beside = op.get_by_test_id("fe-phone")
    await beside.wait_for(state="visible")
    assert "电话" in await beside.inner_text()
    assert await op.locator("#phone").get_attribute("aria-invalid") == "true"
    summary = await op.get_by_test_id("error").inner_text()
    assert "来电号码" in summary and "requester.phone" not in summary
    await shots.take(op, "operator-field-error")

    # The draft survives a reload (a refresh, a new login in this tab): every field and the place.
    await op.reload()
    await op.get_by_test_id("draft-note").wait_for(state="visible")
    assert await op.locator("#name").input_value() == "韩秀兰"
    assert await op.locator("#description").input_value() == "村里承包地被邻居占了一半，想找人调解。"
    assert await op.locator("#id_number").input_value() == good
    assert await op.get_by_test_id("county").input_value() == "140430"

    async def township_back():  # type: ignore[no-untyped-def]
        return await op.get_by_test_id("township").input_value() == "140430002" or None

    await wait_for(township_back, what="the draft's township restored after its options loaded")

    # Corrected, it is filed; the message beside the field goes, and so does the draft.
    await op.locator("#phone").fill(PHONE)
    await op.get_by_test_id("create").click()
    first = await op.get_by_test_id("order-number").inner_text()
    assert not (await beside.inner_text()).strip()
    assert await op.locator("#phone").get_attribute("aria-invalid") is None
    await op.reload()
    assert await op.get_by_test_id("draft-note").is_hidden()
    assert await op.locator("#name").input_value() == ""

    # The same caller again: their details are offered from the last order, and this call — about
    # the same matter, though the operator picks another type — is merged into it as an urge.
    await op.locator("#phone").fill(PHONE)
    await op.get_by_test_id("prefill").wait_for()
    await op.get_by_test_id("prefill").click()
    assert await op.locator("#name").input_value() == "韩秀兰"
    await wait_for(township_back, what="the known caller's township filled in")
    await op.get_by_test_id("merge-into").first.click()
    await op.get_by_test_id("service_type").select_option("consultation")  # looks the caller up again
    await op.get_by_test_id("lookup").locator("[data-testid=merge-into]").first.wait_for()
    choice = op.get_by_test_id("merge-choice")
    assert await choice.is_visible() and first in await choice.inner_text()  # the choice stays
    await op.locator("#description").fill("上次说的占地的事，怎么还没人联系我？")
    await shots.take(op, "operator-merge")
    await op.get_by_test_id("create").click()
    await op.get_by_test_id("merged-into").wait_for()
    second = await op.get_by_test_id("order-number").inner_text()
    assert second != first

    async with svc["intake"].client(headers=await _operator_headers(svc)) as intake:
        rows = (await intake.get("/v1/work-orders", params={"q": second})).json()["items"]
        assert [r["status"] for r in rows] == ["merged"]
        kept = (await intake.get("/v1/work-orders", params={"q": first})).json()["items"][0]
        # Urged, by the operator's word, though of another type; the call itself is not dispatched.
        assert kept["status"] != "merged" and kept["urge_count"] == 1
    assert not await op.get_by_test_id("created-order").locator("form[hx-post$='/callback']").count()

    # The caller's history now holds the merged call, with its status in words.
    await op.locator("#phone").fill("")
    await op.locator("#phone").fill(PHONE)
    history = op.get_by_test_id("history")
    await history.wait_for()
    text = await history.text_content() or ""  # folded (the caller has an open order): still there
    assert second in text and "已并单" in text
    await history.locator("summary").click()
    await shots.take(op, "operator-history")

    # The kept order's page: a misheard digit corrected and the urgency raised, each with a reason.
    kept_link = op.get_by_test_id("lookup").locator("a", has_text=first)
    await op.goto(base + await kept_link.get_attribute("href"))
    edit = op.get_by_test_id("edit-order")
    await edit.locator("summary").click()
    facts = op.get_by_test_id("edit-facts")
    await facts.locator("[name=phone]").fill("13700001235")
    await facts.locator("[name=reason]").fill("来电人更正联系电话")
    async with op.expect_navigation():  # saved: the page shows the corrected order
        await facts.locator("button[type=submit]").click()
    assert "137****1235" in await op.locator("dl.kv").inner_text()
    await op.get_by_test_id("edit-order").locator("summary").click()
    cls = op.get_by_test_id("edit-classification")
    await cls.locator("input[name=urgency][value=urgent]").check()
    await cls.locator("[name=reason]").fill("来电人说对方扬言要动手")
    async with op.expect_navigation():
        await cls.locator("button[type=submit]").click()
    assert (await op.get_by_test_id("order-urgency").inner_text()).startswith("紧急")
    assert "核定" in await op.get_by_test_id("timeline").inner_text()
    # Nothing changed is said, not sent.
    await op.get_by_test_id("edit-order").locator("summary").click()
    await op.get_by_test_id("edit-facts").locator("[name=reason]").fill("再看看")
    await op.get_by_test_id("edit-facts").locator("button[type=submit]").click()
    said = op.get_by_test_id("edit-facts-result").locator(".error")
    await said.wait_for()
    assert "没有改动" in await said.inner_text()
    await shots.take(op, "order-edit")

    # Filed by mistake, nobody has taken it on: 撤销 with a reason (confirmed), not 办结.
    op.once("dialog", lambda d: d.accept())
    await op.get_by_test_id("edit-order").evaluate("d => { d.open = true; }")  # still open, or opened
    cancel = op.get_by_test_id("cancel-order")
    await cancel.locator("[name=reason]").fill("试拨电话，误建工单")
    async with op.expect_navigation():
        await cancel.locator("button[type=submit]").click()
    assert "已撤销" in await op.locator("h1").inner_text()
    assert (
        not await op.get_by_test_id("edit-order").count()
        and not await op.get_by_test_id("close-form").count()
    )
    assert "工单已撤销" in await op.get_by_test_id("timeline").inner_text()
    return [kept["id"]]


async def _operator_headers(svc) -> dict:  # type: ignore[no-untyped-def]
    async with svc["identity"].client() as ident:
        r = await ident.post("/v1/auth/login", json={"username": "op_1404", "password": PASSWORD})
        return {"Authorization": f"Bearer {r.json()['access_token']}"}
