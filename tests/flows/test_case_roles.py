"""Who may do what (design §1), deadlines on a clock the test moves, and the organisers'
tools: hot issues, the spreadsheet, offline intake."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

import pytest

from bot.cases.moves import MOVES, Move, check_deadlines
from bot.standin import SimUser
from tests.support.harness import Harness, file_one
from tests.support.helpers import invite, register, restart, sheet_rows, staffed, substantiate


async def snapshot(harness: Harness) -> dict[str, Any]:
    db = harness.services.db
    return {
        "cases": [
            tuple(r)
            for r in await db.fetchall(
                "SELECT id, state, outcome, due_at, rating FROM cases ORDER BY id"
            )
        ],
        "events": await db.fetchval("SELECT COUNT(*) FROM case_events"),
        "findings": await db.fetchval("SELECT COUNT(*) FROM findings"),
        "invites": await db.fetchval("SELECT COUNT(*) FROM invites"),
        "roles": await db.fetchval("SELECT COUNT(*) FROM roles"),
    }


async def refused_button(user: SimUser, data: str) -> str:
    user.skip_unread()
    message = user.latest().message_id if user.transcript() else 1
    tap = await user.press(message, data)
    return (await tap.answer()).text or ""


TEAM_COMMANDS = [
    "/invite staff dongjie",
    "/invite supervisor",
    "/finding dongjie general X1",
    "/summary",
    "/hot",
    "/export cases",
    "/record",
]


async def test_the_permission_matrix(harness: Harness) -> None:
    own_staff = await staffed(harness, "dongjie", 3601)
    other_staff = await staffed(harness, "xijie", 3602)
    organiser = harness.organiser()
    supervisor = harness.standin.user(3603, "监督员")
    await register(
        harness, supervisor, await invite(harness, organiser, "/invite supervisor xijie")
    )
    author = harness.resident(3604)
    await file_one(author)  # case 1, of dongjie
    await harness.settle()
    stranger = harness.resident(3605, "路人")
    before = await snapshot(harness)

    # every move on dongjie's case, tried by a resident, its author, xijie's staff and a
    # supervisor of xijie, is refused with a reason and changes nothing
    for move in Move:
        assert MOVES[move].roles  # every move belongs to some role
        for person in (stranger, author, other_staff, supervisor):
            text = await refused_button(person, f"v:1:{move.value}")
            assert text, (move, person.first_name)
    # the organiser-only commands
    for person in (stranger, author, own_staff, other_staff, supervisor):
        for command in TEAM_COMMANDS:
            person.skip_unread()
            await person.send(command)
            assert "您的身份不能进行这项操作" in (await person.reply()).text, (command, person.id)
    # cases of another unit are invisible: /cases shows none of them, the card says "not found"
    for person in (other_staff, supervisor, stranger):
        person.skip_unread()
        await person.send("/status 1")
        assert "没有找到第 1 号" in (await person.reply()).text
    other_staff.skip_unread()
    await other_staff.send("/cases")
    assert "没有案件" in (await other_staff.reply()).text
    # a resident or another unit's staff cannot rate the author's case
    assert await refused_button(stranger, "t:1:satisfied")
    await harness.settle()
    assert await snapshot(harness) == before

    # and the roles that may, can (staff of the unit start verifying)
    own_staff.skip_unread()
    await own_staff.send("/status 1")
    card = await own_staff.reply()
    assert card.labels == ["开始核实"]


@pytest.mark.on_postgresql
async def test_reminders_and_escalation_on_a_moving_clock(harness: Harness) -> None:
    staff = await staffed(harness)
    organiser = harness.organiser()
    supervisor = harness.standin.user(3701, "监督员")
    await register(harness, supervisor, await invite(harness, organiser, "/invite supervisor"))
    await file_one(harness.resident(3702))
    await harness.settle()
    staff.skip_unread()
    organiser.skip_unread()
    services = harness.services
    verify_days = harness.campaign.deadlines.verify_days
    assert await check_deadlines(services) == 0
    harness.clock.advance(dt.timedelta(days=verify_days) - dt.timedelta(hours=23))
    assert await check_deadlines(services) == 1  # the unit's staff, a day ahead
    assert await check_deadlines(services) == 0  # never twice
    await harness.settle()
    assert "提醒：案件期限是" in (await staff.reply()).text
    assert organiser.unread() == []
    harness.clock.advance(dt.timedelta(days=1))
    # the bot was down when it fell due: the first scan after the restart sends it, once
    await restart(harness)
    assert await check_deadlines(harness.services) == 2  # staff and organiser
    assert await check_deadlines(harness.services) == 0
    await harness.settle()
    assert "案件已逾期" in (await staff.reply()).text
    assert "案件已逾期" in (await organiser.reply()).text
    supervisor.skip_unread()
    await supervisor.send("/overdue")
    listing = await supervisor.reply()
    assert "第 1 号" in listing.text and "已逾期" in listing.text


async def test_notifications_pending_at_a_restart_are_delivered_once(harness: Harness) -> None:
    staff = await staffed(harness)
    resident = harness.resident(3801)
    await file_one(resident)
    await harness.settle()
    staff.skip_unread()
    resident.skip_unread()
    harness.standin.flood(3.0, [resident.id, staff.id])  # Telegram refuses them a while
    await substantiate_without_settling(harness, 1)
    await harness.bot.stop()  # stopped with the notifications still queued
    conn = sqlite3.connect(harness.db_path)
    try:
        pending = conn.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0]
    finally:
        conn.close()
    # the resident's and the staff's (one may have gone out at the end of the 3 s, if its
    # call was held by the flood answer and the stop waited for it: a busy machine)
    assert pending >= 1
    await restart(harness)
    assert "您反映的问题属实" in (await resident.reply(timeout=20)).text
    assert "请提交整改方案" in (await staff.reply(timeout=20)).text
    await harness.settle()
    pending = await harness.services.db.fetchval(
        "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
    )
    assert pending == 0
    assert resident.unread() == [] and staff.unread() == []  # each exactly once


async def substantiate_without_settling(harness: Harness, case_id: int) -> None:
    organiser = harness.organiser()
    organiser.skip_unread()
    await organiser.send(f"/status {case_id}")
    await organiser.reply(timeout=20)
    await organiser.tap("属实：一般问题")
    await organiser.reply(timeout=20)
    await organiser.send("属实。")
    await organiser.reply(timeout=20)
    await harness.bot.idle()


async def test_hot_issues_count_and_find_recurring_topics(harness: Harness) -> None:
    for n, text in enumerate(
        [
            "窗口人员态度冷淡，退休手续跑了三趟。",
            "退休手续材料清单不清楚，窗口说法不一。",
            "医保报销窗口排队两个小时。",
        ]
    ):
        await file_one(harness.resident(3900 + n), text)
    organiser = harness.organiser()
    await harness.settle()
    organiser.skip_unread()
    await organiser.send("/hot")
    report = (await organiser.reply()).text
    assert "共 3 条意见" in report
    assert "东街街道社保所：服务质量 3" in report
    assert "电报机器人 3" in report
    assert "窗口 (3)" in report and "退休 (2)" in report and "手续 (2)" in report
    await organiser.send("/hot nowhere")
    assert "没有叫“nowhere”的单位" in (await organiser.reply()).text
    await organiser.send("/hot 东街 7")  # an office by part of its name, and days
    assert "东街街道社保所：服务质量 3" in (await organiser.reply()).text


async def test_the_cases_spreadsheet_reads_back(harness: Harness) -> None:
    await file_one(harness.resident(4001), "第一条意见")
    await substantiate(harness, 1)
    await file_one(harness.resident(4002), "第二条意见")
    organiser = harness.organiser()
    await harness.settle()
    organiser.skip_unread()
    await organiser.send("/export cases")
    sent = await organiser.reply()
    assert sent.kind == "document"
    upload = harness.standin.world.uploads[-1]
    cases = sheet_rows(upload, "案件")
    assert [c["编号"] for c in cases] == [1, 2]
    first = cases[0]
    assert first["单位"] == "东街街道社保所" and first["核实结果"] == "属实，一般问题"
    assert first["扣分"] == 5 and first["意见内容"] == "第一条意见"
    units = {u["单位"]: u for u in sheet_rows(upload, "单位")}
    assert units["东街街道社保所"]["扣分合计"] == 5
    assert units["东街街道社保所"]["信访查实得分 C"] == 15


@pytest.mark.parametrize("named", [True, False])
async def test_an_organiser_records_an_opinion_from_a_letter(harness: Harness, named: bool) -> None:
    staff = await staffed(harness, "nanyuan", 4101)
    organiser = harness.organiser()
    await harness.settle()
    organiser.skip_unread()
    staff.skip_unread()
    await organiser.send("/record")
    assert "这条意见是通过什么渠道收集的" in (await organiser.reply()).text
    await organiser.tap("征求意见函")
    await organiser.reply()
    await organiser.tap("南苑街道社保所")
    await organiser.reply()
    await organiser.tap("信息公开")
    await organiser.reply()
    await organiser.send("来信反映：公示栏信息未及时更新。")
    await organiser.reply()
    await organiser.tap("下一步")
    assert "是否让被评单位看到反映人的姓名" in (await organiser.reply()).text
    if named:
        await organiser.tap("实名")
        assert "请填写反映人的姓名" in (await organiser.reply()).text
        await organiser.send("赵先生")
    else:
        await organiser.tap("对单位匿名")
    confirm = await organiser.reply()
    assert "渠道：征求意见函" in confirm.text
    assert ("姓名：赵先生（单位可见）" if named else "姓名：对单位匿名") in confirm.text
    await organiser.tap("确认提交")
    assert "已登记为第 1 号案件" in (await organiser.reply()).text
    await harness.settle()
    assert "新案件第 1 号" in (await staff.reply()).text
    await staff.send("/status 1")
    card = (await staff.reply()).text
    assert ("反映人：赵先生" if named else "反映人：匿名") in card


async def test_the_resident_reads_what_the_moves_told_them_and_no_supervision_note(
    harness: Harness,
) -> None:
    organiser = harness.organiser()
    author = harness.resident(6301, "王阿姨")
    await file_one(author)
    await harness.settle()
    organiser.skip_unread()
    await organiser.send("/status 1")
    await organiser.reply()
    await organiser.tap("添加督查意见")
    await organiser.reply()
    await organiser.send("请所长亲自过问，内部掌握。")
    await organiser.reply()
    await substantiate(harness, 1)  # "经核实属实。": the resident reads the findings
    await harness.settle()
    author.skip_unread()
    await author.send("/status 1")
    history = (await author.reply()).text
    assert "经核实属实" in history
    assert "内部掌握" not in history  # the team's note stays the team's
    organiser.skip_unread()
    await organiser.send("/status 1")
    assert "内部掌握" in (await organiser.reply()).text
