"""Driving the case screens (services/console/cases_view.py) from a browser test: which step forms
a page offers, submitting one (a saved step redraws the page from the case's new state), and the
check that no raw code, UUID or empty container reaches a person's eyes."""

from __future__ import annotations

import asyncio
import re

RAW = re.compile(
    r"\b[a-z]+_[a-z_]+\b|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-|\{\}|\[\]|\bTrue\b|\bFalse\b|\bNone\b"
)


async def steps_shown(page) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    """(the next-step forms, those folded under 其他操作) of the case page."""
    js = "sel => [...document.querySelectorAll(sel)].map(e => e.dataset.testid.slice(5))"
    main = await page.evaluate(js, "[data-testid=case-steps] > form[data-testid^=step-]")
    more = await page.evaluate(js, "[data-testid=more-steps] form[data-testid^=step-]")
    return main, more


async def assert_readable(page) -> None:  # type: ignore[no-untyped-def]
    """No snake_case code, UUID, {} / [] or Python literal in the text of the page."""
    text = await page.locator("main").inner_text()
    found = RAW.findall(text)
    assert not found, f"raw codes on {page.url}: {found[:10]}"


async def submit_step(page, action: str, *, fill=None, select=None, check=None, uncheck=None):  # type: ignore[no-untyped-def]
    """Fill one step's form and submit it; the service's answer must be a success — the page is
    then drawn again from the case's new state (HX-Refresh), else the form shows the error."""
    step = page.get_by_test_id(f"step-{action}")
    more = page.get_by_test_id("more-steps")
    if await more.count() and await more.locator(f"[data-testid=step-{action}]").count():
        if not await more.evaluate("d => d.open"):
            await more.locator("summary").click()
    for name, value in (fill or {}).items():
        await step.locator(f"[name='{name}']").fill(value)
    for name, value in (select or {}).items():
        await step.locator(f"select[name='{name}']").select_option(value)
    for name, values in (check or {}).items():
        for v in values:
            await step.locator(f"input[name='{name}'][value='{v}']").check()
    for name, values in (uncheck or {}).items():
        for v in values:
            await step.locator(f"input[name='{name}'][value='{v}']").uncheck()
    await submit_form(page, f"step-{action}")


async def submit_form(page, testid: str) -> None:  # type: ignore[no-untyped-def]
    """Submit the form `testid`; it must be saved (the page redrawn) — else fail with its error."""
    action = testid
    await page.evaluate("window.__beforeStep = true")
    await page.get_by_test_id(testid).locator("button[type=submit]").click()
    probe = """k => window.__beforeStep
        ? ((document.querySelector(`[data-testid=${k}] .error, [data-testid=${k}] .unavailable`) || {}).innerText || '')
        : 'RELOADED'"""
    for _ in range(300):
        try:
            state = await page.evaluate(probe, action)
        except Exception:  # noqa: BLE001 - the page is navigating: its context is gone for a moment
            state = ""
        if state == "RELOADED":
            await page.wait_for_load_state("domcontentloaded")
            await page.get_by_test_id("case-number").wait_for()
            assert "已" in await page.locator("p.flash").inner_text()
            return
        assert not state, f"{action}: {state}"
        await asyncio.sleep(0.1)
    raise AssertionError(f"{action}: neither saved nor refused within 30 s")
