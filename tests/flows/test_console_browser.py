"""The web console in a real browser: Debian's Chromium, driven by Playwright (no browser
download). Once as a Mini App (signed init data in the URL fragment, the way Telegram
passes it; Telegram's own script cannot load here, so the page must do without it) and
once with a session opened by a /console link. Each opens the overview, filters and
searches the cases, opens one and makes a move (the resident is told), downloads an export
and sees the ranking chart. Screenshots are kept in the test's folder (and, with
EVALBOT_SCREENSHOTS=DIR, in DIR: how the README's pictures are made)."""

from __future__ import annotations

import asyncio
import json
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from playwright.async_api import Browser, Page

from bot.db import cases as case_store
from tests.support.browser import chromium, keep
from tests.support.console import init_data, link_of
from tests.support.harness import Harness, file_one
from tests.support.helpers import people

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as found:
        yield found


async def scene(h: Harness) -> None:
    """A campaign in progress: cases (one with a script in its text), ballots, a staff member."""
    everyone = await people(h)
    await file_one(h.resident(5001, "李大爷"), "工作人员态度很差，说话很不耐烦。")
    await file_one(
        h.resident(5002, "赵女士"), "<script>window.pwned=1</script>养老保险转移手续太复杂"
    )
    evaluator = everyone["evaluator"]
    evaluator.skip_unread()
    await h.settle()


async def walk(page: Page, h: Harness, base: str, tmp: Path, tag: str) -> None:
    """The same visit for both ways in; ``base`` is the page to open first."""
    await page.goto(base)
    await page.wait_for_selector("text=各单位情况")
    shot = tmp / f"{tag}-overview.png"
    await page.screenshot(path=str(shot), full_page=True)
    keep(shot, f"console-{tag}-overview.png")
    assert await page.evaluate("window.pwned") is None
    # the packaged web font serves Chinese (on a machine without CJK fonts it is what shows)
    faces = await page.evaluate(
        "document.fonts.load(\"16px 'Evalbot Noto Sans SC'\", '社保所').then("
        "fs => fs.map(f => f.status))"
    )
    assert faces == ["loaded"]
    # the cases: filter by office, search a word inside a sentence
    await page.click("nav >> text=案件")
    await page.wait_for_selector("#filters")
    await page.select_option("select[name=unit]", "dongjie")
    await page.fill("input[name=q]", "态度")
    await page.click("#filters button[type=submit]")
    await page.wait_for_selector("text=检索词")
    rows = await page.locator("table.cases tbody tr").count()
    assert rows == 1
    shot = tmp / f"{tag}-cases.png"
    await page.screenshot(path=str(shot), full_page=True)
    keep(shot, f"console-{tag}-cases.png")
    # the case with a script in its text: shown as text, nothing runs
    await page.fill("input[name=q]", "")
    await page.click("#filters button[type=submit]")
    await page.wait_for_selector("table.cases")
    await page.click("table.cases >> text=养老保险")
    await page.wait_for_selector("#case-text")
    assert "<script>" in await page.inner_text("#case-text")
    assert await page.evaluate("window.pwned") is None
    number = int((await page.inner_text("h1")).split("第")[1].split("号")[0].strip())
    # a move: start verifying; the resident is told
    await page.click("form.act >> button:has-text('开始核实')")
    await page.wait_for_selector("p.ok")
    shot = tmp / f"{tag}-case.png"
    await page.screenshot(path=str(shot), full_page=True)
    keep(shot, f"console-{tag}-case.png")
    case = await case_store.get_case(h.services.db, number)
    assert case is not None and case.state == "verifying"
    await h.settle()
    author = h.standin.user(5002, "赵女士")
    told = [m.text for m in author.transcript() if f"第 {number} 号" in m.text]
    assert any("核实" in t for t in told), told
    # an export, downloaded
    await page.click("nav >> text=案件")
    await page.wait_for_selector("#filters")
    async with page.expect_download() as waiting:
        await page.click("text=案件表（xlsx）")
    download = await waiting.value
    saved = tmp / f"{tag}-cases.xlsx"
    await download.save_as(saved)
    assert zipfile.is_zipfile(saved)
    # the ranking and its chart
    await page.click("nav >> text=结果")
    await page.wait_for_selector("#ranking")
    # (polled from here: the page's Content-Security-Policy forbids what wait_for_function does)
    for _ in range(200):
        if await page.evaluate("document.querySelector('#chart').naturalWidth > 0"):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the ranking chart did not load")
    shot = tmp / f"{tag}-results.png"
    await page.screenshot(path=str(shot), full_page=True)
    keep(shot, f"console-{tag}-results.png")


async def test_the_console_as_a_mini_app(
    console_harness: Harness, browser: Browser, tmp_path: Path
) -> None:
    h = console_harness
    await scene(h)
    signed = init_data(h, h.organiser())
    theme = json.dumps(  # Telegram's dark theme, as it passes it
        {
            "bg_color": "#17212b",
            "text_color": "#f5f5f5",
            "hint_color": "#708499",
            "link_color": "#6ab3f3",
            "button_color": "#5288c1",
            "button_text_color": "#ffffff",
            "secondary_bg_color": "#232e3c",
        }
    )
    fragment = urlencode(
        {
            "tgWebAppData": signed,
            "tgWebAppVersion": "8.0",
            "tgWebAppPlatform": "android",
            "tgWebAppThemeParams": theme,
        },
        quote_via=quote,
    )
    context = await browser.new_context(
        viewport={"width": 390, "height": 800}, accept_downloads=True
    )
    page = await context.new_page()
    await walk(page, h, f"{h.console_url}/#{fragment}", tmp_path, "miniapp")
    # the theme Telegram passed is followed (dark here)
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(23, 33, 43)"
    await context.close()


async def test_the_console_in_an_office_browser(
    console_harness: Harness, browser: Browser, tmp_path: Path
) -> None:
    h = console_harness
    await scene(h)
    link = await link_of(h, h.organiser())
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    page = await context.new_page()
    await walk(page, h, link, tmp_path, "desk")
    # the link is spent: another browser gets nothing
    other = await browser.new_context()
    again = await other.new_page()
    response = await again.goto(link)
    assert response is not None and response.status == 403
    await other.close()
    await context.close()
