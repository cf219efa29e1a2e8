"""The life of a case (DESIGN §4) in chat: every role, every message each one receives."""

from __future__ import annotations

import re

from bot.db import cases as case_store
from bot.standin import SimUser
from tests.flows.conftest import Harness, file_one


async def invite(harness: Harness, organiser: SimUser, command: str) -> str:
    await organiser.send(command)
    answer = await organiser.reply()
    found = re.search(r"start=(inv-[A-Za-z0-9_-]+)", answer.text)
    assert found, answer.text
    return found.group(1)


async def register(harness: Harness, user: SimUser, code: str) -> str:
    await user.send(f"/start {code}")
    return (await user.reply()).text


async def open_card(user: SimUser, case_id: int) -> None:
    await user.send(f"/status {case_id}")


async def test_a_whole_life_resident_organiser_staff(harness: Harness) -> None:
    organiser = harness.organiser()
    staff = harness.standin.user(3101, "东街社保所小张")
    code = await invite(harness, organiser, "/invite staff dongjie")
    assert "您已登记为东街街道社保所的工作人员" in await register(harness, staff, code)

    resident = harness.resident(3102, "王阿姨")
    await resident.send("/start")
    await resident.reply()
    assert "提交成功" in await file_one(resident, "窗口工作人员态度冷淡。")
    await harness.settle()
    for person in (staff, organiser):
        new = await person.reply()
        assert "新案件第 1 号" in new.text and "核实期限" in new.text
        assert new.labels == ["打开第 1 号"]

    # the unit's staff start verifying; the resident is told
    await staff.tap("打开第 1 号")
    card = await staff.reply()
    assert "反映人：匿名" in card.text  # anonymous to the office: no name for staff
    assert "王阿姨" not in card.text
    assert card.labels == ["开始核实"]
    await staff.tap("开始核实")
    assert "核实中" in (await staff.reply()).text
    assert "单位已开始核实" in (await resident.reply()).text

    # the organiser finds it substantiated (general); resident and staff are told
    await open_card(organiser, 1)
    card = await organiser.reply()
    assert "反映人：王阿姨（对单位匿名）" in card.text
    assert "属实：一般问题" in card.labels and "经核实不属实" in card.labels
    await organiser.tap("属实：一般问题")
    assert "请写下核实情况" in (await organiser.reply()).text
    await organiser.send("经核实，窗口人员服务态度确有问题。")
    card = await organiser.reply()
    assert "经核实属实" in card.text and "一般问题" in card.text
    told = (await resident.reply()).text
    assert "经核实，您反映的问题属实" in told and "窗口人员服务态度确有问题" in told
    assert "请提交整改方案和期限" in (await staff.reply()).text

    # staff send a plan with a deadline; resident and organisers are told
    await staff.tap("打开第 1 号")
    await staff.reply()
    await staff.tap("整改方案")
    assert "请写下整改方案" in (await staff.reply()).text
    await staff.send("对窗口人员进行服务规范培训，设立一次性告知清单。")
    assert "什么时候完成" in (await staff.reply()).text
    await staff.send("15")
    card = await staff.reply()
    assert "整改中" in card.text
    assert "一次性告知清单" in (await resident.reply()).text
    assert "整改方案" in (await organiser.reply()).text

    # staff report it done; the resident rates it
    await staff.tap("打开第 1 号")
    await staff.reply()
    await staff.tap("整改完成")
    await staff.reply()
    await staff.send("已完成培训，清单已张贴。")
    assert "已整改" in (await staff.reply()).text
    ask = await resident.reply()
    assert "已完成培训" in ask.text and "您对处理结果满意吗" in ask.text
    assert ask.labels == ["😊 满意", "🙂 基本满意", "🙁 不满意"]
    assert "整改完成" in (await organiser.reply()).text
    await resident.tap("满意")
    assert "已办结" in (await resident.reply()).text
    await harness.settle()
    assert staff.unread() == [] and organiser.unread() == []
    case = await case_store.get_case(harness.services.db, 1)
    assert case is not None
    assert (case.state, case.outcome, case.rating) == ("closed", "general", "satisfied")
    history = await case_store.case_history(harness.services.db, 1)
    assert [e.move for e in history] == ["file", "verify", "general", "plan", "complete", "rate"]
