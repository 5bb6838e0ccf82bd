"""Both case workflows finished in the console, in headless Chromium against the real services:

- legal aid (法律援助法): the officer records an application with materials missing (一次性告知),
  the supplement, the grant, picks a lawyer by name; that lawyer logs in, accepts, reports progress
  and closes (Art 50); the officer records the subsidy and the return visit and archives;
- people's mediation (人民调解法): the mediator adds the respondent, records consent (Art 17),
  names the mediator by name, schedules and records a session (no agreement offered before: Art 22,
  27, 28), drafts the agreement, every signature and the seal (Art 29), the parties' application
  for 司法确认 (Art 33), the performance follow-up (Art 31) and the return visit that closes it.

At every step the page offers exactly the forms of the case's state and the viewer's role, and no
raw code, UUID, {} / [] or True/False reaches the screen."""

from __future__ import annotations

import time

import pytest

from libs.common.testing.auth import auth
from libs.common.testing.infra import consumers_ready, serve, services, wait_for
from services.console.main import create_app
from services.console.settings import ConsoleSettings
from tests.browser.case_steps import assert_readable, steps_shown, submit_form, submit_step
from tests.browser.test_console_roles import COUNTY, PASSWORD, account, login, mediation_offer_accepted

pytestmark = pytest.mark.browser


async def test_an_aid_case_and_a_mediation_case_are_finished_in_the_ui(infra, browser, shots):
    started = time.monotonic()
    async with services(infra, "identity", "intake", "dispatch", "aid", "mediation") as svc:
        console = await serve(
            "console",
            create_app(
                ConsoleSettings(inbox_poll_seconds=0.3),
                intake=svc["intake"].url,
                dispatch=svc["dispatch"].url,
                aid=svc["aid"].url,
                mediation=svc["mediation"].url,
                identity=svc["identity"].url,
            ),
        )
        try:
            await consumers_ready(*svc.values())
            async with svc["identity"].client() as ident:
                r = await ident.post("/v1/auth/login", json={"username": "op_1404", "password": PASSWORD})
                op_headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            await _aid(browser, console.url, svc, op_headers, shots)
            await _mediation(browser, console.url, svc, op_headers, shots)
        finally:
            await console.stop()
    shots.publish()
    assert time.monotonic() - started < 240


async def order_accepted(svc, op_headers: dict, body: dict) -> str:  # type: ignore[no-untyped-def]
    """An order filed with the operator's real token, accepted by whoever dispatch offers it to."""
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

        offer = (await wait_for(offered, what="the offer"))[0]
        who = auth("aid_officer", region=COUNTY, staff_id=offer["staff_id"])
        r = await dispatch.post(f"/v1/assignments/{offer['id']}/accept", headers=who)
        assert r.status_code == 200, r.text
    return order_id


async def open_case(page, base: str, service: str, order_id: str) -> None:  # type: ignore[no-untyped-def]
    """The case opened from the order, found in the worker's list by its 来源工单."""

    async def listed():  # type: ignore[no-untyped-def]
        await page.goto(f"{base}/cases")
        link = page.get_by_test_id(f"cases-{service}").locator(
            f"tr:has(a[href='/orders/{order_id}']) a[data-testid=case-link]"
        )
        return await link.count() and link

    link = await wait_for(listed, interval=0.3, what=f"the {service} case in the list")
    await link.first.click()
    await page.get_by_test_id("case-number").wait_for()


async def expect_steps(page, main: list[str], more: list[str] | None = None) -> None:  # type: ignore[no-untyped-def]
    shown, folded = await steps_shown(page)
    assert shown == main, (await page.get_by_test_id("case-status").inner_text(), shown)
    if more is not None:
        assert folded == more, folded
    await assert_readable(page)


async def status_is(page, text: str) -> None:  # type: ignore[no-untyped-def]
    assert await page.get_by_test_id("case-status").inner_text() == text


async def close_the_order(page, base: str, order_id: str) -> None:  # type: ignore[no-untyped-def]
    """A concluded case offers 办结 of its work order; intake wants the callback first (回拨)."""
    closing = page.get_by_test_id("close-order")
    assert "法律援助已结案：仲裁调解结案" in await closing.locator("textarea").input_value()
    await closing.locator("button[type=submit]").click()
    await closing.locator(".error").wait_for()
    assert "回拨" in await closing.locator(".error").inner_text()
    case_url = page.url
    await page.goto(f"{base}/orders/{order_id}")
    callback = page.locator("form[hx-post$='/callback']")
    await callback.locator("select[name=outcome]").select_option("reached")
    await callback.locator("input[name=note]").fill("已告知求助人办理结果")
    await callback.locator("button[type=submit]").click()
    await page.get_by_test_id("callback-result").locator(".ok").wait_for()
    await page.goto(case_url)
    await submit_form(page, "close-order")
    assert "已办结" in await page.get_by_test_id("order-link").locator("xpath=..").inner_text()
    assert not await page.get_by_test_id("close-order").count()


async def _aid(browser, base: str, svc, op_headers: dict, shots) -> None:  # type: ignore[no-untyped-def]
    order_id = await order_accepted(
        svc,
        op_headers,
        {
            "channel": "hotline",
            "requester": {"name": "王秀英", "phone": "13834567891"},
            "region_code": COUNTY,
            "service_type": "legal_aid",
            "description": "老板拖欠我三个月工资一万八，想申请法律援助。",
        },
    )
    officer = await login(browser, base, f"aid_{COUNTY}")
    await open_case(officer, base, "aid", order_id)
    await status_is(officer, "已收到申请")
    await expect_steps(officer, ["application"], ["withdraw", "receipt"])
    assert await officer.get_by_test_id("order-link").inner_text() != ""
    await shots.take(officer, "case-aid-application")
    # The hardship statement and the honesty commitment not handed in: listed back in one go.
    await submit_step(
        officer,
        "application",
        fill={
            "applicant.phone": "13834567891",
            "matter.cause": "追索劳动报酬",
            "matter.stage": "劳动仲裁",
            "means.household_size": "3",
            "means.monthly_income": "1800",
        },
        select={
            "matter.category": "labour_pay",
            "requested_form": "arbitration_agency",
            "means.verification": "honesty_commitment",
        },
        check={"attachments": ("identity", "matter_materials")},
    )
    await status_is(officer, "待补充材料（已一次性告知）")
    missing = await officer.get_by_test_id("missing-items").inner_text()
    assert "经济困难状况说明表" in missing and "个人诚信承诺" in missing and "第四十三条" in missing
    await expect_steps(officer, ["supplement"], ["withdraw", "receipt"])
    notice = await officer.get_by_test_id("doc-materials").get_attribute("href")
    r = await officer.context.request.get(f"{base}{notice}")
    assert r.ok and "经济困难状况说明表" in await r.text()  # the 一次性告知书, printable
    await shots.take(officer, "case-aid-incomplete")
    await submit_step(
        officer, "supplement", check={"attachments": ("hardship_statement", "honesty_commitment")}
    )
    await status_is(officer, "审查中")
    await expect_steps(officer, ["decision"], ["withdraw", "receipt"])
    basis = await officer.get_by_test_id("eligibility-basis").inner_text()
    assert "第三十一条" in basis and "第四十一条" in basis and "第三十四条" in basis
    await submit_step(
        officer, "decision", fill={"reasons": "经审查符合经济困难标准"}, select={"decision": "grant"}
    )
    await status_is(officer, "准予援助，待指派律师")
    await expect_steps(officer, ["assign"], ["terminate", "receipt"])
    # The lawyer is picked by name from the county's roster (duty state, load, years shown).
    lawyer = officer.locator("[data-testid=step-assign] [data-testid=person]:not([disabled])").first
    await lawyer.wait_for()
    name, code = await lawyer.get_attribute("data-name"), await lawyer.get_attribute("data-code")
    await officer.get_by_test_id("people-search").fill(name)
    people = officer.get_by_test_id("step-assign").get_by_test_id("person")

    async def narrowed():  # type: ignore[no-untyped-def]
        return await people.count() == 1

    await wait_for(narrowed, interval=0.2, what="the picker narrowed to the name typed")
    await shots.take(officer, "case-aid-assign")
    await officer.get_by_test_id("step-assign").get_by_test_id("person").check()
    await submit_step(officer, "assign")
    await status_is(officer, "已指派，待律师接受")
    await expect_steps(officer, [], ["terminate"])
    assert name in await officer.get_by_test_id("case-assignment").inner_text()
    assert "第四十三条" in await officer.get_by_test_id("case-assignment").inner_text()

    # The lawyer: only their own steps — never 登记申请 or 审批决定.
    assert code, "the picked lawyer has a staff code to log in with"
    lw = await login(browser, base, code)
    await open_case(lw, base, "aid", order_id)
    await expect_steps(lw, ["lawyer-accept"], ["lawyer-decline"])
    await submit_step(lw, "lawyer-accept", fill={"firm_consent_by": "律所主任"})
    await status_is(lw, "承办中")
    await expect_steps(lw, ["progress", "close"], [])
    await submit_step(lw, "progress", fill={"note": "已代为提交劳动仲裁申请，仲裁委已受理"})
    assert "仲裁委已受理" in await lw.get_by_test_id("case-progress").inner_text()
    await submit_step(
        lw,
        "close",
        fill={
            "documents": "仲裁申请书\n仲裁调解书",
            "report": "经仲裁调解，用人单位同意分两期支付拖欠工资一万八千元。",
            "outcome": "仲裁调解结案",
        },
    )
    await status_is(lw, "已结案，待补贴与回访")
    await expect_steps(lw, [], [])
    await shots.take(lw, "case-aid-lawyer")

    # Back to the officer: subsidy (Art 52), return visit, archive.
    await officer.reload()
    await expect_steps(officer, ["subsidy", "return-visit"], [])
    await submit_step(officer, "subsidy", fill={"amount": "1200", "standard": "劳动仲裁代理"})
    await submit_step(
        officer, "return-visit", select={"satisfaction": "satisfied"}, fill={"note": "受援人满意"}
    )
    await expect_steps(officer, ["archive"], [])
    await submit_step(officer, "archive")
    await status_is(officer, "已归档")
    await expect_steps(officer, [], [])
    assert "归档" in await officer.get_by_test_id("case-history").inner_text()
    await close_the_order(officer, base, order_id)
    await shots.take(officer, "case-aid")
    for page in (officer, lw):
        await page.context.close()


async def _mediation(browser, base: str, svc, op_headers: dict, shots) -> None:  # type: ignore[no-untyped-def]
    order_id = await mediation_offer_accepted(svc, op_headers)
    me = account(f"mediator_{COUNTY}")
    page = await login(browser, base, me.username)
    await open_case(page, base, "mediation", order_id)
    await status_is(page, "已登记，征求当事人同意")
    # The applicant consented by applying (Art 17): only adding the respondent, or the mediator.
    await expect_steps(
        page, ["parties"], ["mediator", "extensions", "risk", "registration", "recusals", "receipt"]
    )
    await submit_step(
        page,
        "parties",
        fill={
            "parties.0.name": "赵建国",
            "parties.0.phone": "13912340000",
            "parties.0.address": "潞州区某小区 2 号楼",
        },
        select={"parties.0.side": "respondent"},
    )
    await expect_steps(page, ["parties", "consents"])
    # The registration corrected (PATCH): Art 33's exclusions depend on the dispute type.
    await submit_step(
        page,
        "registration",
        select={"dispute_type": "neighbour"},
        fill={"summary": "邻居空调外机噪音大、滴水，多次沟通无果", "claims": "请求移装空调外机"},
    )
    assert "请求移装空调外机" in await page.get_by_test_id("case-basic").inner_text()
    await submit_step(page, "consents", select={"decision": "given", "method": "oral"})
    await status_is(page, "已受理")
    # The case came with the mediator who took the order; the committee names this one instead —
    # by name, from the county's mediators (the mediator signs the agreement in person, Art 29).
    await expect_steps(page, ["sessions", "failure"])
    more = page.get_by_test_id("more-steps")
    await more.locator("summary").click()
    person = page.get_by_test_id("step-mediator").locator(f"[data-testid=person][value='{me.staff_id}']")
    await person.wait_for()
    await person.check()
    await submit_step(page, "mediator", select={"chosen_by": "committee"})
    await submit_step(
        page, "sessions", fill={"scheduled_at": "2026-12-03T09:30", "location": "潞州区调委会调解室"}
    )
    await status_is(page, "调解中")
    # 人民调解法 Art 22, 27, 28: no agreement form before the session was held and recorded.
    await expect_steps(page, ["sessions", "record", "failure"])
    assert "第二十八条" in await page.get_by_test_id("case-hint").inner_text()
    await submit_step(page, "record", fill={"notes": "双方陈述事实，调解员释法说理，双方同意移装外机"})
    assert "李桂英：到场" in await page.get_by_test_id("case-sessions").inner_text()
    await expect_steps(page, ["sessions", "agreement", "oral-agreement", "failure"])
    await submit_step(
        page,
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
    await status_is(page, "调解协议书待签署")
    await expect_steps(page, ["signatures", "failure"])
    step = page.get_by_test_id("step-signatures")
    for party in ("李桂英", "赵建国"):
        value = await step.locator("select[name=party_id] option", has_text=party).get_attribute("value")
        await submit_step(
            page, "signatures", select={"signer": "party", "party_id": value, "method": "thumbprint"}
        )
        step = page.get_by_test_id("step-signatures")
    await submit_step(page, "signatures", select={"signer": "mediator"})
    await submit_step(page, "signatures", select={"signer": "committee_seal"})
    await status_is(page, "已达成协议，履行中")
    assert "三十日" in await page.get_by_test_id("case-confirmation").inner_text()
    await expect_steps(page, ["judicial-confirmation", "follow-up", "return-visit"])
    await shots.take(page, "case-mediation")
    await submit_step(
        page, "judicial-confirmation", fill={"applied_on": "2026-12-10", "court": "长治市潞州区人民法院"}
    )
    await submit_step(page, "follow-up", select={"performance": "full"}, fill={"note": "外机已移装"})
    await expect_steps(page, ["follow-up", "return-visit"])  # partial performance: checked again
    await submit_step(page, "return-visit", select={"satisfied": "yes"}, fill={"note": "双方满意"})
    await status_is(page, "已结案")
    await expect_steps(page, [], [])
    follow = await page.get_by_test_id("case-follow-ups").inner_text()
    assert "已全部履行" in follow and "满意：是" in follow
    await shots.take(page, "case-mediation-closed")
    href = await page.get_by_test_id("agreement-link").get_attribute("href")
    await page.goto(f"{base}{href}")
    assert "调解协议书" in await page.content()
    await page.context.close()
