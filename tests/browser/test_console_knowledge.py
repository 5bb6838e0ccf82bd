"""法律知识库 on the operator's screen (issue #19 item 1), in headless Chromium against the real
identity and intake: standard answers appear while the description is typed, 用此条当场解答 ticks
当场解答 and fills the summary, and the order filed records which article answered the call."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from libs.common.testing.infra import serve, services, wait_for
from services.console.main import create_app
from services.console.settings import ConsoleSettings
from tests.browser.test_console_operator_form import login, pick_place

pytestmark = pytest.mark.browser


async def test_suggestions_while_typing_and_the_answering_article(infra, browser, shots):
    async with services(infra, "identity", "intake") as svc:
        console = await serve(
            "console",
            create_app(
                ConsoleSettings(),
                intake=svc["intake"].url,
                identity=svc["identity"].url,
                dispatch="http://127.0.0.1:9",
                aid="http://127.0.0.1:9",
                mediation="http://127.0.0.1:9",
            ),
        )
        try:
            op = await login(browser, console.url, "op_1404")
            await pick_place(op)
            await op.locator("#description").fill("老板不给工钱，拖了三个月了")
            first = op.get_by_test_id("kb-item").first
            await first.wait_for(timeout=15_000)
            assert "老板拖欠工资不给怎么办？" in await first.inner_text()
            assert "《劳动合同法》第30条" in await first.inner_text()
            await shots.take(op, "operator-knowledge")

            await first.get_by_test_id("kb-use").click()
            assert await op.locator("#answered").is_checked()
            assert "劳动保障监察" in await op.locator("#answer_summary").input_value()
            chosen = op.get_by_test_id("kb-chosen")
            assert await chosen.is_visible() and "老板拖欠工资不给怎么办？" in await chosen.inner_text()

            await op.locator("#phone").fill("13700005678")
            await op.locator("#name").fill("赵师傅")
            await op.get_by_test_id("create").click()
            await op.get_by_test_id("created").get_by_text("LW").first.wait_for(timeout=15_000)

            async def used():  # type: ignore[no-untyped-def]
                async with svc["intake"].rt.sessionmaker() as session:
                    n = (await session.execute(text("SELECT count(*) FROM kb_article_uses"))).scalar_one()
                return n or None

            assert await wait_for(used, timeout=10, what="the answering article recorded") == 1
            assert not await chosen.is_visible()  # the next call starts without it
            shots.publish()
        finally:
            await console.stop()
