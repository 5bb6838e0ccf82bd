"""法律知识库 on the operator's screen and the supervisors' page (issue #19 item 1), against a real
intake: suggestions for what the caller says, 用此条当场解答 recorded on the order, the figures."""

from __future__ import annotations

import re

from tests.integration.console_helpers import console_for
from tests.integration.intake_helpers import clock, intake_without_broker
from tests.unit.test_console_app import csrf_of, dev_login


async def test_suggestions_the_answering_article_and_the_figures(infra):
    async with intake_without_broker(infra, clock()) as intake:
        async with console_for(intake=intake.url) as web:
            await dev_login(web, "operator", region="1404", staff_id="op-kb")
            screen = await web.get("/operator")
            assert screen.status_code == 200 and 'data-testid="kb"' in screen.text
            csrf = csrf_of(screen.text)

            short = await web.post("/operator/knowledge", data={"csrf_token": csrf, "description": "老板"})
            assert "输入诉求后" in short.text  # still typing: no search
            r = await web.post(
                "/operator/knowledge",
                data={"csrf_token": csrf, "description": "老板不给工钱，三个月了", "county": "140430"},
            )
            assert r.status_code == 200 and 'data-testid="kb-item"' in r.text
            assert "老板拖欠工资不给怎么办？" in r.text and "《劳动合同法》第30条" in r.text
            assert "用此条当场解答" in r.text and "劳动争议" in r.text
            article = re.search(r'data-id="([0-9a-f-]{36})"', r.text).group(1)
            none = await web.post(
                "/operator/knowledge", data={"csrf_token": csrf, "description": "无人机航拍许可证"}
            )
            assert 'data-testid="kb-none"' in none.text and "已记录" in none.text

            filed = await web.post(
                "/operator/orders",
                data={
                    "csrf_token": csrf,
                    "call_id": "kb-call-1",
                    "name": "赵师傅",
                    "phone": "13900003001",
                    "county": "140430",
                    "service_type": "consultation",
                    "description": "老板不给工钱，三个月了",
                    "answered_on_call": "1",
                    "answer_summary": "可向劳动保障监察投诉或申请劳动仲裁。",
                    "knowledge_article_id": article,
                },
            )
            assert filed.status_code == 200 and "LW" in filed.text, filed.text

        async with console_for(intake=intake.url) as web:
            await dev_login(web, "supervisor", region="1404")
            page = await web.get("/knowledge")
            assert page.status_code == 200 and "法律知识库 · 使用情况" in page.text
            used = page.text.split('data-testid="kb-used"')[1].split("</table>")[0]
            assert "老板拖欠工资不给怎么办？" in used and "<td>1</td>" in used
            missed = page.text.split('data-testid="kb-missed"')[1].split("</table>")[0]
            assert "无人机航拍许可证" in missed
            assert 'href="/knowledge"' in page.text  # the supervisor's menu has it
            listed = page.text.split('data-testid="kb-articles"')[1].split("</table>")[0]
            assert listed.count("<tr>") >= 80 and "已发布" in listed and "沁县" in listed

        async with console_for(intake=intake.url) as web:
            await dev_login(web, "operator", region="1404")
            assert (await web.get("/knowledge")).status_code == 403
