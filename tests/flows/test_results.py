"""Results (design §5, §7) against hand-computed numbers: /rank, /results, publication,
the spreadsheet, the chart and the public page (in a real headless browser)."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import shutil
import stat
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from PIL import Image, ImageChops

from bot.campaign import Campaign, parse_campaign
from bot.db import ballots as ballot_store
from bot.db import results as result_store
from bot.results.chart import font
from bot.results.publish import report_deliveries
from bot.settings import REPO_EXAMPLE
from tests.support.harness import Harness
from tests.support.helpers import open_window, sheet_rows
from tests.support.records import cast

EXTRA_UNITS = """
[[units]]
id = "beiyuan"
name = "北苑街道社保所"

[[units]]
id = "zhongshan"
name = "中山街道社保所"
"""


def five_units(policy: str = "score") -> Campaign:
    text = (
        REPO_EXAMPLE.read_text(encoding="utf-8")
        .replace("# The evaluation items", EXTRA_UNITS + "\n# The evaluation items")
        .replace('unknown_policy = "score"', f'unknown_policy = "{policy}"')
    )
    return parse_campaign(text, REPO_EXAMPLE)


@pytest.fixture
def campaign(request: pytest.FixtureRequest) -> Campaign:
    return five_units(getattr(request, "param", "score"))


async def scenario(harness: Harness) -> None:
    """dongjie: design §5's worked example (74.55, flagged); xijie 100; nanyuan and beiyuan tie
    at 86; zhongshan has no ballots."""
    n = await cast(
        harness, "dongjie", {"satisfied": 60, "basic": 25, "unsatisfied": 10, "unknown": 5}, 1
    )
    n = await cast(harness, "xijie", {"satisfied": 10}, n)
    n = await cast(harness, "nanyuan", {"basic": 10}, n)
    await cast(harness, "beiyuan", {"basic": 10}, n)
    organiser = harness.organiser()
    for command in (
        "/finding dongjie general A",
        "/finding dongjie general B",
        "/finding dongjie punished B",
        "/daily dongjie 9",
        "/daily xijie 10",
        "/daily nanyuan 10",
        "/daily beiyuan 10",
        "/daily zhongshan 7.5",
    ):
        await organiser.send(command)
        await organiser.reply()


@pytest.mark.on_postgresql
async def test_rank_and_results_match_the_hand_computed_numbers(harness: Harness) -> None:
    await scenario(harness)
    organiser = harness.organiser()
    await organiser.send("/rank")
    lines = (await organiser.reply()).text.splitlines()
    ranked = [line for line in lines if line.startswith(("1.", "2.", "4.", "—"))]
    assert ranked == [
        "1. 西街街道社保所 — 100.00",
        "2. 北苑街道社保所 — 86.00",
        "2. 南苑街道社保所 — 86.00",
        "4. 东街街道社保所 — 74.55 ⚠️ 低于 85 分",
        "— 中山街道社保所：无测评数据，不计民主测评得分",
    ]
    await organiser.send("/results dongjie")
    card = (await organiser.reply()).text
    assert "第 4 名" in card
    assert "民主测评得分 D = 86.50（共 100 票）" in card
    assert "服务质量：满意 60.00% · 基本满意 25.00% · 不满意 10.00% · 不了解 5.00% → 86.50" in card
    assert "信访查实得分 C = 5.00（扣分 15.00）" in card
    assert "B：被处分处罚 −10.00（反映 2 次，只计一次）" in card
    assert "日常工作考核得分 A = 9.00" in card
    assert "综合得分 = 74.55 ⚠️ 低于 85 分" in card
    await organiser.send("/results zhongshan")
    none = (await organiser.reply()).text
    assert "民主测评得分 D = —（共 0 票）" in none and "综合得分 = —" in none
    await organiser.send("/daily dongjie 11")
    assert "0 到 10.00 之间" in (await organiser.reply()).text
    await organiser.send("/daily dongjie 9.123")
    assert "最多两位小数" in (await organiser.reply()).text


@pytest.mark.parametrize("campaign", ["exclude"], indirect=True)
async def test_leaving_dont_know_out_of_the_valid_votes(harness: Harness) -> None:
    await scenario(harness)
    organiser = harness.organiser()
    await organiser.send("/results dongjie")
    card = (await organiser.reply()).text
    # (100·60 + 80·25 + 50·10) / 95 = 89.47…; 0.7 · 89.4736… + 5 + 9 = 76.63
    assert "民主测评得分 D = 89.47" in card and "综合得分 = 76.63" in card


async def test_flagged_units_and_their_proposals(harness: Harness) -> None:
    await scenario(harness)
    organiser = harness.organiser()
    await organiser.send("/flagged")
    flagged = (await organiser.reply()).text
    assert "东街街道社保所 — 74.55" in flagged and "尚无处理意见" in flagged
    assert "西街" not in flagged
    await organiser.send("/proposal dongjie 约谈所长，限期整改窗口服务问题")
    assert "已登记对东街街道社保所的处理意见" in (await organiser.reply()).text
    await organiser.send("/flagged")
    assert "处理意见：约谈所长，限期整改窗口服务问题" in (await organiser.reply()).text
    await organiser.send("/results dongjie")
    assert "约谈所长" in (await organiser.reply()).text


@pytest.mark.on_postgresql
async def test_publication_to_the_channel_and_subscribers(harness: Harness) -> None:
    channel = harness.standin.channel(-1007777, "评议公示", "shebao_pingyi_demo")
    reader = harness.resident(7001, "订阅的居民")
    await reader.send("/subscribe")
    assert "结果公布时会通知您" in (await reader.reply()).text
    await reader.send("/rank")
    assert "结果尚未公布" in (await reader.reply()).text
    await scenario(harness)
    organiser = harness.organiser()
    await organiser.send("/publish")  # first what would go out, and nothing published
    preview = (await organiser.reply()).text
    assert "公布前请核对" in preview and "1. 西街街道社保所 — 100.00" in preview
    assert "将发送到频道和 1 位订阅者" in preview
    assert await harness.services.db.fetchval("SELECT COUNT(*) FROM publications") == 0
    await organiser.tap("公布")
    done = (await organiser.reply()).text
    head = await ballot_store.head(harness.services.db)
    assert "正在发送到 2 处" in done and head in done and "✅" not in done
    await harness.settle()
    for said in (channel.transcript(), reader.transcript()[-2:]):
        text, chart = said[-2], said[-1]
        assert "1. 西街街道社保所 — 100.00" in text.text and head in text.text
        assert chart.kind == "photo" and chart.text.startswith("📊 ") and "综合得分" in chart.text
    charts = harness.standin.world.uploads
    image = Image.open(io.BytesIO(charts[-1]))
    assert image.size[0] == 1100 and image.size[1] > 300
    reader.skip_unread()
    await reader.send("/rank")
    published = (await reader.reply()).text
    assert "已公布的排名" in published and "4. 东街街道社保所 — 74.55" in published
    # whoever published is told how the delivery went
    assert await report_deliveries(harness.services) == 1
    await harness.settle()
    report = (await organiser.reply()).text
    assert "已送达 2 处中的 2 处" in report and "频道已收到" in report
    await organiser.send("/publish")  # a second publication says so
    confirm = await organiser.reply()
    assert "这次将再次公布" in confirm.text
    await organiser.tap("再次公布")
    assert "正在发送到 2 处" in (await organiser.reply()).text
    await harness.settle()
    assert len([m for m in channel.transcript() if m.kind == "photo"]) == 2


def test_the_chart_font_draws_every_chinese_character_of_the_names() -> None:
    """Each character renders as its own glyph, not as the 'missing glyph' box."""
    face = font(24)
    missing = face.getmask("\ue000").getbbox()  # a private-use code point: no glyph
    names = "".join(u.name for u in five_units().units) + "综合得分测评数据"
    for char in set(names):
        glyph = Image.frombytes("L", face.getmask(char).size, bytes(face.getmask(char)))
        box = Image.frombytes("L", face.getmask("\ue000").size, bytes(face.getmask("\ue000")))
        assert face.getmask(char).getbbox() is not None, char
        assert glyph.size != box.size or ImageChops.difference(glyph, box).getbbox(), char
    assert missing is None or missing != face.getmask("东").getbbox()


async def test_the_results_spreadsheet_reads_back(harness: Harness) -> None:
    await scenario(harness)
    organiser = harness.organiser()
    await organiser.send("/proposal dongjie 约谈所长，限期整改")
    await organiser.reply()
    await organiser.send("/export results")
    assert (await organiser.reply()).kind == "document"
    upload = harness.standin.world.uploads[-1]
    ranking = {r["单位"]: r for r in sheet_rows(upload, "排名")}
    west = ranking["西街街道社保所"]
    figures = ("名次", "民主测评得分", "信访查实得分", "综合得分")
    assert tuple(west[f] for f in figures) == (1, 100, 20, 100)
    assert ranking["东街街道社保所"] == {
        "名次": 4,
        "单位": "东街街道社保所",
        "民主测评得分": 86.5,
        "信访查实得分": 5,
        "日常工作考核得分": 9,
        "综合得分": 74.55,
        "低于85分": "是",
        "票数": 100,
        "处理意见": "约谈所长，限期整改",
    }
    unballoted = [r for r in ranking.values() if not r["票数"]]
    assert unballoted and all(r["名次"] is None and r["综合得分"] is None for r in unballoted)
    service = next(
        r
        for r in sheet_rows(upload, "分项")
        if r["单位"] == "东街街道社保所" and r["评议内容"] == "服务质量"
    )
    rates = ("满意率 %", "基本满意率 %", "不满意率 %", "不了解率 %", "得分", "票数")
    assert tuple(service[k] for k in rates) == (60, 25, 10, 5, 86.5, 100)
    assert sheet_rows(upload, "扣分明细") == [
        {"单位": "东街街道社保所", "案件或编号": "A", "性质": "一般", "扣分": 5, "反映次数": 1},
        {
            "单位": "东街街道社保所",
            "案件或编号": "B",
            "性质": "被处分处罚",
            "扣分": 10,
            "反映次数": 2,
        },
    ]  # B reported twice, counted once
    book = load_workbook(io.BytesIO(upload), read_only=True)
    assert "案件" in book.sheetnames and "单位" in book.sheetnames


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


async def run(command: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
    """A program run beside the bot, off its event loop."""
    return await asyncio.to_thread(lambda: subprocess.run(command, **options))


async def test_the_public_page_renders_in_a_browser(harness: Harness, tmp_path: Path) -> None:
    assert CHROMIUM, "the page test needs Chromium: apt-get install chromium (see README)"
    await scenario(harness)
    out = tmp_path / "site"
    command = [sys.executable, "-m", "bot.cli", "publish-page", str(out)]
    campaign_file = ["--campaign", str(write_campaign(tmp_path))]
    env = {"PATH": "/usr/bin:/bin", "EVALBOT_DB": str(harness.db_path)}
    refused = await run(  # nothing published yet: no page unless asked for the live one
        [*command, *campaign_file], capture_output=True, text=True, timeout=120, env=env
    )
    assert refused.returncode == 2 and "nothing is published yet" in refused.stderr
    assert not out.exists()
    done = await run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "publish-page",
            str(out),
            "--live",  # nothing published yet: the live ranking, titled so
            "--campaign",
            str(write_campaign(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "EVALBOT_DB": str(harness.db_path)},
    )
    assert done.returncode == 0, done.stderr
    # public, whatever evalbot's umask (077): the web server that serves it reads it
    for made in (out, out / "index.html", out / "ranking.png", out / "font.woff2"):
        assert stat.S_IMODE(made.stat().st_mode) in (0o755, 0o644), made
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    page = (out / "index.html").as_uri()
    dom = await run(
        [CHROMIUM, *flags, "--dump-dom", page],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    for unit, score in (
        ("西街街道社保所", "100.00"),
        ("东街街道社保所", "74.55"),
        ("南苑街道社保所", "86.00"),
        ("北苑街道社保所", "86.00"),
    ):
        row = dom.stdout.split(f">{unit}<")[1].split("</tr>")[0]
        assert score in row, unit
        assert ("低于 85 分" in row) == (unit == "东街街道社保所"), unit  # the flag, in words
    assert "中山街道社保所" in dom.stdout and "无测评数据" in dom.stdout
    assert "尚未公布" in dom.stdout and "公布时间" not in dom.stdout
    shot = tmp_path / "page.png"
    await run(
        [CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1000,1400", page],
        capture_output=True,
        timeout=120,
        check=False,
    )
    rendered = Image.open(shot)
    assert rendered.size == (1000, 1400)
    assert len(rendered.convert("L").getcolors(256) or []) > 10  # not a blank page


def write_campaign(tmp_path: Path) -> Path:
    path = tmp_path / "campaign.toml"
    path.write_text(
        REPO_EXAMPLE.read_text(encoding="utf-8").replace(
            "# The evaluation items", EXTRA_UNITS + "\n# The evaluation items"
        ),
        encoding="utf-8",
    )
    return path


async def test_publish_asks_first_warns_and_publishes_only_what_was_previewed(
    harness: Harness,
) -> None:
    """The preview names what is not ready; a change after it publishes nothing; a channel
    that cannot be reached is reported in words (here the channel does not exist)."""
    await scenario(harness)
    organiser = harness.organiser()
    await open_window(organiser)
    await organiser.send("/publish")
    preview = (await organiser.reply()).text
    assert "测评尚未结束" in preview  # the window is open
    assert "有 1 个单位还没有测评票：中山街道社保所" in preview
    assert "将发送到频道（暂无订阅者）" in preview
    await organiser.send("/daily xijie 9.5")  # the ranking changes after the preview
    await organiser.reply()
    await organiser.tap("公布", preview_message(organiser))
    again = (await organiser.reply()).text
    assert "排名有了变化" in again and "没有公布" in again
    assert await harness.services.db.fetchval("SELECT COUNT(*) FROM publications") == 0
    await organiser.tap("公布")  # the new preview's button
    assert "正在发送到 1 处" in (await organiser.reply()).text
    await harness.settle()
    assert await report_deliveries(harness.services) == 1
    await harness.settle()
    report = (await organiser.reply()).text
    assert "已送达 1 处中的 0 处" in report and "频道没有收到" in report and "✅" not in report
    assert await report_deliveries(harness.services) == 0  # told once
    # a publication older than a day (one made before an upgrade) is passed over, untold
    await organiser.send("/publish")
    await organiser.reply()
    await organiser.tap("再次公布")
    await organiser.reply()
    await harness.settle()
    organiser.skip_unread()
    harness.clock.advance(dt.timedelta(days=2))
    assert await report_deliveries(harness.services) == 0
    await harness.settle()
    assert organiser.unread() == []


def preview_message(user: Any) -> Any:
    """The first preview the organiser received (an older message than the latest)."""
    return next(m for m in user.transcript() if "公布前请核对" in m.text)


async def test_organiser_commands_take_offices_by_name(harness: Harness) -> None:
    """An office by its name, part of it or its code; several or none answered in words
    with the names to choose from, and nothing recorded."""
    organiser = harness.organiser()
    organiser.skip_unread()
    for command, expected in (
        ("/daily 西街 9.5", "西街街道社保所"),
        ("/daily 西街街道社保所 9", "西街街道社保所"),
        ("/daily nanyuan 8", "南苑街道社保所"),
        ("/results 南苑", "南苑街道社保所"),
        ("/finding 东街 一般 A 窗口态度", "东街街道社保所"),
        ("/finding 中山 处分 B", "中山街道社保所"),
        ("/proposal 北苑 约谈所长", "北苑街道社保所"),
        ("/hot 中山 7", "中山街道社保所"),
        ("/invite staff 东街街道社保所", "start="),
        ("/invite supervisor 东街、西街", "start="),
        ("/daily 街道 9", "有几个单位都符合“街道”"),
        ("/daily 北京 9", "没有叫“北京”的单位"),
        ("/finding 街 一般 C", "有几个单位都符合“街”"),
    ):
        await organiser.send(command)
        said = (await organiser.reply()).text
        assert expected in said, (command, said)
    daily = await result_store.daily_scores(harness.services.db)
    assert daily == {"xijie": Decimal("9"), "nanyuan": Decimal("8")}
    found = await harness.services.db.fetchall("SELECT unit_id, severity FROM findings")
    assert sorted((r[0], r[1]) for r in found) == [
        ("dongjie", "general"),
        ("zhongshan", "punished"),
    ]
