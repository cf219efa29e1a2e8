"""The organiser runs a campaign from the console alone, in Debian's Chromium: invitations
(evaluators register in chat with the links), the ballot window opened with its
confirmation and closed, a finding, the daily-work scores, the publication with its
checklist and delivery report, and the audit. Once at a desk's width in Chinese with a
/console link, once at a phone's width in English as a Mini App (switched with the
header's language link). Screenshots of every page are kept (EVALBOT_SCREENSHOTS=DIR: the
README's pictures)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from playwright.async_api import Browser, Page

from bot.ballots import evaluation as ballots
from tests.support.browser import chromium, keep
from tests.support.console import init_data, link_of
from tests.support.harness import Harness
from tests.support.helpers import press, register

pytestmark = pytest.mark.timeout(300)

WORDS = {  # what the organiser clicks, in each language
    "zh": {
        "invites": "邀请", "campaign": "民主测评", "findings": "查实情况", "daily": "日常工作考核",
        "publish": "公布", "audit": "操作记录", "make": "生成邀请", "open": "开放测评",
        "open_now": "现在开放", "close": "结束测评", "record": "登记", "save": "保存修改过的得分",
        "publish_button": "公布", "made": "已生成 5 个邀请", "delivered": "已送达",
    },
    "en": {
        "invites": "Invitations", "campaign": "Evaluation", "findings": "Findings",
        "daily": "Daily work", "publish": "Publish", "audit": "Audit",
        "make": "Make the invitations", "open": "Open the ballot window", "open_now": "Open now",
        "close": "Close the ballot window", "record": "Record", "save": "Save the changed scores",
        "publish_button": "Publish", "made": "5 invitations made", "delivered": "delivered",
    },
}  # fmt: skip


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as found:
        yield found


async def shot(page: Page, tmp: Path, name: str) -> None:
    path = tmp / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    keep(path, f"workbench-{name}.png")


async def nav(page: Page, label: str, ready: str) -> None:
    await page.click(f"#nav >> text='{label}'")
    await page.wait_for_selector(ready)


async def campaign(page: Page, h: Harness, tmp: Path, lang: str, tag: str) -> None:
    w = WORDS[lang]
    h.standin.channel(-1007777, "评议公示", "shebao_pingyi_demo")
    # invitations: five evaluators of every office, of one category
    await nav(page, w["invites"], "#invite")
    await page.select_option("#invite select[name=role]", "evaluator")
    await page.select_option("#invite select[name=category]", index=1)
    await page.fill("#invite input[name=count]", "5")
    await page.click(f"#invite button:has-text('{w['make']}')")
    await page.wait_for_selector("#made")
    assert w["made"] in await page.inner_text("#made")
    links = re.findall(r"start=(inv-[A-Za-z0-9_-]+)", await page.inner_text("#made"))
    assert len(links) == 5
    await shot(page, tmp, f"{tag}-invites")
    voters = []
    for n, code in enumerate(links):
        voter = h.standin.user(8800 + n, f"代表{n + 1}")
        await register(h, voter, code)
        voters.append(voter)
    # the ballot window: asked first (before the plan's phase), then open
    await nav(page, w["campaign"], "#turnout")
    await page.click(f"button:has-text('{w['open']}')")
    await page.wait_for_selector("form.confirm")
    await shot(page, tmp, f"{tag}-campaign-confirm")
    await page.click(f"form.confirm button:has-text('{w['open_now']}')")
    await page.wait_for_selector("p.ok")
    assert await ballots.is_open(h.services)
    await h.settle()
    for v, voter in enumerate(voters):
        for u, unit in enumerate(h.services.campaign.units):
            for i, item in enumerate(h.services.campaign.items):
                h.clock.advance(dt.timedelta(seconds=3))
                said = await press(voter, item.id, (u + i + v) % 3, h, unit.id)
                assert "已记录" in said or "recorded" in said, said
    await h.settle()
    await page.reload()
    await page.wait_for_selector("#turnout")
    await shot(page, tmp, f"{tag}-campaign-open")
    await page.click(f"button:has-text('{w['close']}')")
    await page.wait_for_selector("p.ok")
    assert not await ballots.is_open(h.services)
    # a finding, the daily-work scores
    await nav(page, w["findings"], "#finding")
    await page.fill("#finding input[name=office]", "西街")
    await page.fill("#finding input[name=ref]", "HT-2026-031")
    await page.fill("#finding textarea[name=text]", "区政务投诉中心查实：窗口推诿")
    await page.click(f"#finding button:has-text('{w['record']}')")
    await page.wait_for_selector("#register")
    await shot(page, tmp, f"{tag}-findings")
    await nav(page, w["daily"], "#daily")
    for unit, score in zip(h.services.campaign.units, ("9.5", "8", "9"), strict=True):
        await page.fill(f"#score-{unit.id}", score)
    await page.click(f"#daily button:has-text('{w['save']}')")
    await page.wait_for_selector("p.ok")
    await shot(page, tmp, f"{tag}-daily")
    # the publication: the checklist all ticked, the preview, then the delivery report
    await nav(page, w["publish"], "#checklist")
    assert await page.locator("#checklist li.warn").count() == 0
    await shot(page, tmp, f"{tag}-publish")
    await page.check("#publish input[name=reviewed]")
    await page.click(f"#publish button:has-text('{w['publish_button']}')")
    await page.wait_for_selector("#deliveries")
    await h.settle()
    await page.reload()
    await page.wait_for_selector("#deliveries")
    report = await page.inner_text("#deliveries")
    assert w["delivered"] in report, report
    await shot(page, tmp, f"{tag}-delivered")
    await nav(page, w["audit"], "#audit")
    audit = await page.inner_text("#audit")
    assert audit.count("\n") >= 6  # invitations, window twice, finding, 3 scores, publication
    await shot(page, tmp, f"{tag}-audit")


async def test_the_organisers_campaign_at_a_desk_in_chinese(
    console_harness: Harness, browser: Browser, tmp_path: Path
) -> None:
    h = console_harness
    link = await link_of(h, h.organiser())
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(link)
    await page.wait_for_selector("#who")
    await campaign(page, h, tmp_path, "zh", "desk-zh")
    await context.close()


async def test_the_organisers_campaign_on_a_phone_in_english(
    console_harness: Harness, browser: Browser, tmp_path: Path
) -> None:
    h = console_harness
    organiser = h.organiser()
    await organiser.send("/start")  # (an organiser has opened the bot before)
    await organiser.reply()
    fragment = urlencode(
        {"tgWebAppData": init_data(h, h.organiser()), "tgWebAppVersion": "8.0"}, quote_via=quote
    )
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await context.new_page()
    await page.goto(f"{h.console_url}/#{fragment}")
    await page.wait_for_selector("#who")
    await page.click("#nav >> text='English'")  # the switch: remembered, the page read anew
    await page.wait_for_selector("#who >> text=Signed in")
    assert await page.evaluate("document.documentElement.lang") == "en"
    await campaign(page, h, tmp_path, "en", "phone-en")
    # on a phone the tables are cards: every figure labelled, none hidden
    await nav(page, "Results", "#ranking")
    cells = page.locator("#ranking tbody tr:first-child td")
    assert await cells.count() == 6
    for n in range(6):
        assert await cells.nth(n).is_visible()
    await shot(page, tmp_path, "phone-en-results")
    await context.close()
