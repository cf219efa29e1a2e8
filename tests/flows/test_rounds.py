"""One bot across the years (design §12): a database with two finished rounds and a third in
progress, driven through the stand-in as organisers, staff, evaluators and residents would,
with `evalbot round start` between the rounds."""

from __future__ import annotations

import io
import os
import re
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest
from openpyxl import load_workbook

from bot.ballots.evaluation import verify
from bot.campaign import Campaign, parse_campaign
from bot.db import results as result_store
from bot.results.export import cases_workbook, results_workbook
from bot.results.ranking import history, round_ranking
from bot.settings import REPO_EXAMPLE
from bot.standin import SimUser
from tests.support.console import init_data
from tests.support.harness import ORGANISER, Harness
from tests.support.helpers import (
    card_of,
    invite,
    invite_links,
    open_window,
    press,
    register,
    sheet_rows,
)

XIJIE = """[[units]]
id = "xijie"
name = "西街街道社保所"
name_en = "West Street Social Security Office"
"""
BEIGUAN = """[[units]]
id = "beiguan"
name = "北关街道社保所"

"""
ITEMS = ("disclosure", "lawful", "service", "integrity", "institutions")


def round_file(
    tmp_path: Path, year: int, *, drop_xijie: bool = False, invite_again: str = ""
) -> Path:
    """The example campaign as the file of ``year``'s round."""
    text = REPO_EXAMPLE.read_text(encoding="utf-8")
    assert XIJIE in text
    text = text.replace('id = "2026-shebao"', f'id = "{year}-shebao"')
    text = text.replace("2026年度", f"{year}年度").replace("year = 2026", f"year = {year}")
    assert "invite_again = []" in text
    text = text.replace("invite_again = []", f"invite_again = [{invite_again}]")
    # one evaluator a round: the per-item figures, hand-computed below, are shown only to
    # a campaign that lets a group of one be broken down (small-group secrecy's k = 1)
    text = text.replace("smallest_group = 5", "smallest_group = 1")
    if drop_xijie:
        text = text.replace(XIJIE, BEIGUAN)
        text = text.replace("threshold = 85", "threshold = 80")
    path = tmp_path / f"{year}.toml"
    path.write_text(text, encoding="utf-8")
    parse_campaign(text, path)  # a valid file
    return path


def load(path: Path) -> Campaign:
    return parse_campaign(path.read_text(encoding="utf-8"), path)


async def run_bot(harness: Harness, campaign: Campaign) -> None:
    """Stop the bot and run one with ``campaign`` on the same database."""
    await harness.bot.stop()
    harness.campaign = campaign
    harness.bot = harness.new_bot(
        campaign, console=harness.bot.console, console_listen=harness.bot.console_listen
    )
    await harness.bot.start()


def evalbot(harness: Harness, *args: str) -> subprocess.CompletedProcess[str]:
    """The command line, as an organiser types it, on the test's database."""
    env = {
        **os.environ,
        "EVALBOT_DB": harness.db,
        "EVALBOT_BALLOT_KEY": str(harness.key_path),
        "TELEGRAM_BOT_TOKEN": harness.standin.token,
        "TELEGRAM_API_BASE_URL": harness.standin.base_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


async def open_round(harness: Harness, path: Path) -> None:
    """`evalbot run` refuses the new round's file; `evalbot round start FILE` opens it (the
    bot stopped); then the bot runs on it."""
    await harness.bot.stop()
    refused = evalbot(harness, "run", "--campaign", str(path))
    assert refused.returncode == 2 and "evalbot round start" in refused.stderr, refused.stderr
    opened = evalbot(harness, "round", "start", str(path))
    assert opened.returncode == 0, opened.stderr
    assert "carried over" in opened.stdout
    again = evalbot(harness, "round", "start", str(path))
    assert again.returncode == 2 and "opened already" in again.stderr
    await run_bot(harness, load(path))


async def file_for(user: SimUser, unit: str, text: str) -> int:
    """A resident files an opinion about ``unit``; the case's number."""
    for action in (
        lambda: user.send("/opinion"),
        lambda: user.tap(unit),
        lambda: user.tap("服务质量"),
        lambda: user.send(text),
        lambda: user.tap("下一步"),
        lambda: user.tap("对单位匿名"),
        lambda: user.tap("确认提交"),
    ):
        await action()
        said = (await user.reply()).text
    found = re.search(r"/status (\d+)", said)
    assert found, said
    return int(found.group(1))


async def vote(harness: Harness, evaluator: SimUser, index: int) -> None:
    """The evaluator answers every item of dongjie with the answer at ``index``."""
    for item in ITEMS:
        assert "已记录" in await press(evaluator, item, index, harness)
    await harness.settle()


async def evaluator_of(harness: Harness, user_id: int) -> SimUser:
    organiser = harness.organiser()
    person = harness.standin.user(user_id, f"测评代表{user_id}")
    [code] = await invite_links(organiser, "/invite evaluator public_rep 1 dongjie")
    assert "测评代表" in await register(harness, person, code)
    return person


async def finish_round(harness: Harness, daily: str) -> None:
    """Daily-work score for dongjie, the window closed (cards final), the results published."""
    organiser = harness.organiser()
    organiser.skip_unread()
    await organiser.send(f"/daily dongjie {daily}")
    assert daily in (await organiser.reply()).text
    await organiser.send("/ballots close")
    await organiser.reply()
    await harness.settle()
    await organiser.send("/publish")
    await organiser.reply()  # the preview
    await organiser.tap("公布")
    await harness.settle()
    organiser.skip_unread()


async def case_reply(user: SimUser, case_id: int) -> str:
    user.skip_unread()
    await user.send(f"/status {case_id}")
    return (await user.reply()).text


@pytest.mark.on_postgresql
async def test_three_rounds_one_database(console_harness: Harness, tmp_path: Path) -> None:
    harness = console_harness
    files = {
        year: round_file(tmp_path, year, drop_xijie=year == 2026) for year in (2024, 2025, 2026)
    }
    harness.db_path = tmp_path / "years.sqlite3"  # a database the 2024 round opens
    await run_bot(harness, load(files[2024]))
    organiser = harness.organiser()

    # -- round 1 (2024): staff, a supervisor, two cases, one evaluator, published
    staff = harness.standin.user(4101, "东街工作人员")
    await register(harness, staff, await invite(harness, organiser, "/invite staff dongjie"))
    dropped_staff = harness.standin.user(4102, "西街工作人员")
    await register(harness, dropped_staff, await invite(harness, organiser, "/invite staff xijie"))
    resident = harness.resident(4103, "王阿姨")
    await resident.send("/start")
    await resident.reply()
    old_case = await file_for(resident, "东街街道社保所", "窗口排队两个小时没人管。")
    xijie_case = await file_for(resident, "西街街道社保所", "西街大厅不公开办事指南。")
    await harness.settle()
    organiser.skip_unread()
    [spare_invite] = await invite_links(organiser, "/invite evaluator public_rep 1 dongjie")
    first = await evaluator_of(harness, 4104)
    await open_window(organiser)
    await harness.settle()
    await vote(harness, first, 0)  # 满意 on every item: D = 100
    old_card = card_of(first).message_id
    await finish_round(harness, "8")

    # -- round 2 (2025): refused until opened; then another evaluator, published
    await open_round(harness, files[2025])
    assert "以前的测评轮次" in await register(
        harness, harness.standin.user(4105, "迟到"), spare_invite
    )
    second = await evaluator_of(harness, 4106)
    await open_window(organiser)
    await harness.settle()
    await vote(harness, second, 0)  # D = 100 again
    await finish_round(harness, "8")  # composite 0.7 × 100 + 20 + 8 = 98.00
    published_2025 = await result_store.last_publication(harness.services.db)
    assert published_2025 is not None

    # -- round 3 (2026): xijie dropped, beiguan added, the threshold lowered to 80
    await open_round(harness, files[2026])
    services = harness.services
    assert [r.id for r in services.rounds] == ["2024-shebao", "2025-shebao", "2026-shebao"]

    # the ballots of an earlier round cannot be changed: not by a press on the old card …
    every_ballot = "SELECT * FROM ballots ORDER BY round, voter, item_id"
    before = [tuple(r) for r in await services.db.fetchall(every_ballot)]
    tap = await first.press(old_card, "b:dongjie:service:2")
    said = (await tap.answer()).text or ""
    assert "属于已经结束的“2024年度街道社保所政风行风评议”，本次作答未记录" in said, said
    await harness.settle()
    # … nor by the database itself
    with sqlite3.connect(harness.db_path) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE ballots SET answer = 'unsatisfied' WHERE round = '2024-shebao'")
    assert [tuple(r) for r in await services.db.fetchall(every_ballot)] == before

    # a continuing office's staff keep their access; the case of round 1 is rectified now
    assert "窗口排队两个小时" in await case_reply(staff, old_case)
    await resident.send("/opinion")
    picker = await resident.reply()
    assert "北关街道社保所" in picker.labels and "西街街道社保所" not in picker.labels
    await resident.send("/cancel")
    await resident.reply()
    new_case = await file_for(resident, "东街街道社保所", "今年窗口又不公开收费标准。")
    await harness.settle()
    organiser.skip_unread()
    for case_id in (old_case, new_case):  # both substantiated in round 3: a general problem
        await organiser.send(f"/status {case_id}")
        await organiser.reply()
        await organiser.tap("属实：一般问题")
        await organiser.reply()
        await organiser.send("经核实属实。")
        await organiser.reply()
    await harness.settle()
    staff.skip_unread()
    for label, answer in (("整改方案", "加强培训。"), (None, "7")):
        if label:
            await staff.send(f"/status {old_case}")
            await staff.reply()
            await staff.tap(label)
            await staff.reply()
        await staff.send(answer)
        await staff.reply()
    await staff.send(f"/status {old_case}")
    await staff.reply()
    await staff.tap("整改完成")
    await staff.reply()
    await staff.send("已整改。")
    assert "已整改" in (await staff.reply()).text
    await harness.settle()

    # a dropped office's staff keep its history but see no new case
    assert "西街大厅不公开办事指南" in await case_reply(dropped_staff, xijie_case)
    refused = await case_reply(dropped_staff, new_case)
    assert "今年窗口又不公开收费标准" not in refused and "没有" in refused

    # round 1's case counts in round 1, the new one in round 3
    r1 = next(r for r in services.rounds if r.id == "2024-shebao")
    ranking_1 = await round_ranking(services, r1)
    assert ranking_1 is not None
    c1 = ranking_1.get("dongjie").result.complaint
    assert [c.ref for c in c1.cases] == [f"case-{old_case}"] and c1.score == 15
    third = await evaluator_of(harness, 4107)
    await open_window(organiser)
    await harness.settle()
    await vote(harness, third, 1)  # 基本满意 on every item: D = 80
    await organiser.send("/daily dongjie 9")
    await harness.settle()
    now = (await history(services)).changes["dongjie"]
    current = await round_ranking(services, None)
    assert current is not None
    c3 = current.get("dongjie").result
    assert [c.ref for c in c3.complaint.cases] == [f"case-{new_case}"]

    # the year-over-year figures, by hand: 2025 D 100, C 20, A 8, composite 98.00;
    # 2026 D 80, C 15, A 9, composite 0.7 × 80 + 15 + 9 = 80.00
    assert c3.published == Decimal("80.00")
    assert now.composite == Decimal("-18.00")
    assert now.democratic == Decimal("-20.00")
    assert now.complaint == Decimal("-5.00") and now.daily == Decimal("1.00")
    assert dict(now.items) == {item: Decimal("-20.00") for item in ITEMS}

    # /rank 2025 is what was published then, also after round 1's case changed round 1's C
    organiser.skip_unread()
    await organiser.send("/rank 2025")
    said = (await organiser.reply()).text
    assert "2025年度" in said and published_2025.head in said
    for row in published_2025.ranking:
        assert f"{row.name} — {row.composite}" in said or not row.composite
    assert "98.00" in said
    await organiser.send("/rank 2024")
    said_2024 = (await organiser.reply()).text
    assert "东街街道社保所 — 98.00" in said_2024  # as published: before case 1 was substantiated
    resident.skip_unread()
    await resident.send("/rank")  # nothing published this year yet: where to look instead
    said_now = (await resident.reply()).text
    assert "尚未公布" in said_now and "以前各轮：/rank 2024, /rank 2025" in said_now
    await organiser.send("/rank ２０２５")  # typed with a Chinese keyboard's digits
    assert (await organiser.reply()).text == said
    for nowhere in ("1999", "²", "2025-nowhere"):
        await organiser.send(f"/rank {nowhere}")
        assert "没有" in (await organiser.reply()).text
    await organiser.send("/rank")
    assert "/rank 2024" in (await organiser.reply()).text

    # evalbot verify checks every round's chain
    checked = await verify(harness.db)
    assert checked.ok, checked.problems
    assert [r for r, _, _ in checked.heads] == ["2024-shebao", "2025-shebao", "2026-shebao"]
    assert [n for _, _, n in checked.heads] == [5, 5, 5]
    assert (await verify(harness.db, published_2025.head)).ok

    # the spreadsheet and the web console show the change from 2025
    book = load_workbook(io.BytesIO(await results_workbook(services, "zh", ORGANISER)))
    sheet = next(s for s in book.worksheets if "2025" in s.title)
    rows = list(sheet.iter_rows(values_only=True))
    dongjie = next(r for r in rows if r[0] == "东街街道社保所")
    assert list(dongjie[1:9]) == [80, -18, 80, -20, 15, -5, 9, 1]
    assert list(dongjie[9:]) == [-20] * 5 + [None]  # (2025 as published = as now: no change)
    # one public page per round, each linking the other years
    site = tmp_path / "site"
    wrote = evalbot(  # 2026 is not published yet: its page live, titled so
        harness, "publish-page", str(site), "--campaign", str(files[2026]), "--live"
    )
    assert wrote.returncode == 0, wrote.stderr
    front = (site / "index.html").read_text(encoding="utf-8")
    page_2025 = (site / "2025-shebao" / "index.html").read_text(encoding="utf-8")
    assert '<a href="2025-shebao/index.html">2025</a>' in front
    assert '<a href="2024-shebao/index.html">2024</a>' in front
    assert '<a href="../index.html">2026</a>' in page_2025 and "2025年度" in page_2025
    assert ">98.00<" in page_2025 and published_2025.head in page_2025
    assert 'id="verify"' in page_2025 and "重新计算指纹" in page_2025  # how to check, in words
    assert (site / "2024-shebao" / "ranking.png").stat().st_size > 0
    signed = init_data(harness, organiser)
    async with aiohttp.ClientSession() as http:
        headers = {"X-Telegram-Init-Data": signed}
        async with http.get(f"{harness.console_url}/results", headers=headers) as r:
            table = await r.text()
        async with http.get(f"{harness.console_url}/results/dongjie", headers=headers) as r:
            office = await r.text()
        async with http.get(f"{harness.console_url}/cases", headers=headers) as r:
            listed = await r.text()
    # an earlier round's case is marked with its year, in the console and the spreadsheet
    assert f'第 {old_case} 号</a> <span class="round">2024年度</span>' in listed
    cases = sheet_rows(await cases_workbook(services, "zh", ORGANISER), "案件")
    assert {c["编号"]: c["年度"] for c in cases}[old_case] == 2024
    assert "较2025年" in table and "−18.00" in table
    assert "北关街道社保所" in table and "西街街道社保所" not in table
    assert "80.00 <span" in office and "较2025年 −18.00" in office  # the composite
    assert "较2025年 −20.00" in office and "较2025年 −5.00" in office and "较2025年 +1.00" in office
    assert office.count('<td class="num">−20.00</td>') == 5  # D per item
    history_rows = re.findall(r"<tr><td>(\d{4})</td><td class=\"num\">([\d.]+)</td></tr>", office)
    # each round as it stands now: 2024's case 1, substantiated in 2026, counts in 2024
    # (0.7 × 100 + 15 + 8 = 93.00; its publication said 98.00 and stays as it was)
    assert history_rows[-3:] == [("2024", "93.00"), ("2025", "98.00"), ("2026", "80.00")]
    assert '<svg id="rounds-chart"' in office and office.count('class="dot"') == 3


async def test_a_round_opens_only_when_the_one_before_is_over(
    harness: Harness, tmp_path: Path
) -> None:
    """Refused, changing nothing, while the window may take answers, while cards still
    have buttons, for a year that comes before, and for an id used already. Then opened
    with a file that asks for one office's staff to be invited again."""
    harness.db_path = tmp_path / "years.sqlite3"
    await run_bot(harness, load(round_file(tmp_path, 2025)))
    organiser = harness.organiser()
    east = harness.standin.user(4202, "东街工作人员")
    await register(harness, east, await invite(harness, organiser, "/invite staff dongjie"))
    west = harness.standin.user(4203, "西街工作人员")
    await register(harness, west, await invite(harness, organiser, "/invite staff xijie"))
    voter = await evaluator_of(harness, 4201)
    await open_window(organiser)
    await harness.settle()
    assert "已记录" in await press(voter, "service", 0, harness)
    await harness.bot.stop()
    nothing = evalbot(harness, "round", "list").stdout

    def refused(path: Path, why: str) -> None:
        said = evalbot(harness, "round", "start", str(path))
        assert said.returncode == 2 and why in said.stderr, said.stderr
        assert "nothing was changed" in said.stderr
        assert evalbot(harness, "round", "list").stdout == nothing

    next_year = round_file(tmp_path, 2026, invite_again='"xijie"')
    refused(next_year, "is not over")  # opened by hand
    with sqlite3.connect(harness.db_path) as conn:  # closed while the bot was down
        conn.execute("UPDATE rounds SET window = 'closed'")
    refused(next_year, "still have their buttons")
    refused(round_file(tmp_path, 2024), "comes before")
    refused(round_file(tmp_path, 2025), "opened already")
    # the bot, started again, closes the cards; then the round opens
    await run_bot(harness, load(round_file(tmp_path, 2025)))
    await harness.settle()
    await harness.bot.stop()
    with sqlite3.connect(harness.db_path) as conn:
        assert conn.execute("SELECT final FROM ballot_cards").fetchall() == [(1,)]
    final = voter.current(voter.transcript()[-1].message_id)
    assert final.data == () and "满意" in final.text
    opened = evalbot(harness, "round", "start", str(next_year))
    assert opened.returncode == 0, opened.stderr
    assert "roles ended as the file says: 1" in opened.stdout
    assert "carried over: 1 staff" in opened.stdout
    listed = evalbot(harness, "round", "list").stdout
    assert "1. 2025-shebao" in listed and "2. 2026-shebao" in listed and "current" in listed
    await run_bot(harness, load(next_year))
    for person in (east, west):
        person.skip_unread()
        await person.send("/cases")
    assert "未办结的案件" in (await east.reply()).text
    assert "未办结的案件" not in (await west.reply()).text  # to be invited again


async def test_a_change_from_last_year_is_shown_against_the_published_figure_too(
    console_harness: Harness, tmp_path: Path
) -> None:
    """2024 publishes dongjie at 98.00; in 2025 a 2024 case is substantiated, so 2024 is now
    93.00: the change is said against 93.00, and against the published 98.00 beside it."""
    harness = console_harness
    files = {year: round_file(tmp_path, year) for year in (2024, 2025)}
    harness.db_path = tmp_path / "two.sqlite3"
    await run_bot(harness, load(files[2024]))
    organiser = harness.organiser()
    resident = harness.resident(4203, "王阿姨")
    await resident.send("/start")
    await resident.reply()
    case = await file_for(resident, "东街街道社保所", "窗口排队两个小时没人管。")
    first = await evaluator_of(harness, 4204)
    await open_window(organiser)
    await harness.settle()
    await vote(harness, first, 0)  # D = 100
    await finish_round(harness, "8")  # 98.00, published
    await open_round(harness, files[2025])
    organiser.skip_unread()
    await organiser.send(f"/status {case}")
    await organiser.reply()
    await organiser.tap("属实：一般问题")  # 2024's case, substantiated now: 2024 is 93.00
    await organiser.reply()
    await organiser.send("经核实属实。")
    await organiser.reply()
    second = await evaluator_of(harness, 4205)
    await open_window(organiser)
    await harness.settle()
    await vote(harness, second, 0)
    await organiser.send("/daily dongjie 8")  # 2025: 0.7 × 100 + 20 + 8 = 98.00
    await harness.settle()
    past = await history(harness.services)
    assert past.changes["dongjie"].composite == Decimal("5.00")  # against 93.00, as now
    assert past.against_published == {"dongjie": (Decimal("98.00"), Decimal("0.00"))}
    headers = {"X-Telegram-Init-Data": init_data(harness, organiser)}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{harness.console_url}/results", headers=headers) as r,
    ):
        table = await r.text()
    assert "+5.00" in table and "较公布时的 98.00：0.00" in table
    book = load_workbook(io.BytesIO(await results_workbook(harness.services, "zh", ORGANISER)))
    sheet = next(s for s in book.worksheets if "2024" in s.title)
    header, *rows = list(sheet.iter_rows(values_only=True))
    dongjie = dict(zip(header, next(r for r in rows if r[0] == "东街街道社保所"), strict=True))
    assert dongjie["综合得分较2024年公布得分的变化（与现在数据不同时）"] == 0
