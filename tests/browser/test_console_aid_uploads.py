"""A legal-aid case's documents in the console, in headless Chromium against the real aid service:
the checklist shows what the 一次性告知 still asks for, a photo renamed to .pdf is refused beside the
file field (htmx multipart upload), the real file ticks the item off, and the file can be downloaded."""

from __future__ import annotations

import pytest

from libs.common.testing.auth import auth
from libs.common.testing.infra import serve, services
from services.console.main import create_app
from services.console.settings import ConsoleSettings
from tests.browser.case_steps import assert_readable
from tests.integration.test_aid_case_flow import application
from tests.unit.test_aid_upload_rules import png

pytestmark = pytest.mark.browser
COUNTY = "140430"


async def test_upload_a_document_from_the_case_screen(infra, browser, shots, tmp_path, monkeypatch):
    monkeypatch.setenv("AID_SWEEP_SECONDS", "0")
    async with services(infra, "aid") as svc:
        async with svc["aid"].client(headers=auth("aid_officer", region=COUNTY)) as aid:
            cid = (await aid.post("/v1/applications", json=application(attachments=[]))).json()["id"]
        console = await serve(
            "console", create_app(ConsoleSettings(LAWLINE_CONSOLE_DEV_LOGIN=True), aid=svc["aid"].url)
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(f"{console.url}/login")
            form = page.get_by_test_id("dev-login")
            await form.locator("select[name=role]").select_option("aid_officer")
            await form.locator("input[name=region]").fill(COUNTY)
            await form.locator("button[type=submit]").click()
            await page.goto(f"{console.url}/cases/aid/{cid}")
            check = page.get_by_test_id("check-identity")
            assert await check.get_attribute("data-supplied") == "no"

            renamed = tmp_path / "身份证.pdf"
            renamed.write_bytes(png(b"renamed photo"))
            up = page.get_by_test_id("upload-form")
            await page.get_by_test_id("upload-kind").select_option("identity")
            await page.get_by_test_id("upload-file").set_input_files(str(renamed))
            await page.get_by_test_id("upload-submit").click()
            error = page.get_by_test_id("error-file")
            await error.wait_for()
            assert "不符" in await error.inner_text()
            await shots.take(page, "aid-upload-refused")

            photo = tmp_path / "身份证.png"
            photo.write_bytes(png(b"id card"))
            await page.get_by_test_id("upload-kind").select_option("identity")
            await page.get_by_test_id("upload-file").set_input_files(str(photo))
            async with page.expect_navigation():
                await up.locator("button[type=submit]").click()
            await page.get_by_test_id("uploads").wait_for()
            assert await page.get_by_test_id("check-identity").get_attribute("data-supplied") == "yes"
            assert "身份证.png" in await page.get_by_test_id("uploads").inner_text()
            await assert_readable(page)
            await shots.take(page, "aid-case-documents")

            async with page.expect_download() as got:
                await page.get_by_test_id("uploads").locator("a").first.click()
            download = await got.value
            assert (tmp_path / "back.png").write_bytes(
                png(b"id card")
            ) and download.suggested_filename == "身份证.png"
        finally:
            await console.stop()
    shots.publish()
