"""Headless Chromium from Debian (/usr/bin/chromium) driven by Python Playwright.

`playwright install` is never used (no downloads): the system browser is launched directly.
A missing browser FAILS the browser tests — they are part of `make test`, never skipped.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
DOCS_SHOTS = ROOT / "docs" / "screenshots"


def _require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")


@pytest.fixture
async def browser():
    _require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            await b.close()


class Shots:
    """Screenshots of each main screen: test-artifacts/ for every run, docs/ for the README."""

    def __init__(self) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.taken: list[Path] = []

    async def take(self, page, name: str) -> None:  # type: ignore[no-untyped-def]
        path = SHOTS / f"{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)

    def publish(self) -> None:
        # Only on request (LAWLINE_PUBLISH_SCREENSHOTS=1): a plain test run must not dirty the tree.
        if os.environ.get("LAWLINE_PUBLISH_SCREENSHOTS") != "1":
            return
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        for p in self.taken:
            shutil.copy2(p, DOCS_SHOTS / p.name)


@pytest.fixture
def shots() -> Shots:
    return Shots()
