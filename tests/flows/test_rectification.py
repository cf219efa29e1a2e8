"""The life of a case (design §4) in chat: every role, every message each one receives."""

from __future__ import annotations

import pytest

from bot.db import cases as case_store
from bot.standin import SimUser
from tests.support.harness import Harness, file_one, reach
from tests.support.helpers import invite, open_card, register, staffed, substantiate


@pytest.mark.on_postgresql
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


async def test_not_substantiated_closes_the_case_and_tells_the_resident(harness: Harness) -> None:
    resident = harness.resident(3301)
    await file_one(resident)
    await harness.settle()
    organiser = harness.organiser()
    organiser.skip_unread()
    await open_card(organiser, 1)
    await organiser.reply()
    await organiser.tap("经核实不属实")
    assert "请说明不属实的理由" in (await organiser.reply()).text
    await organiser.send("窗口当天系统故障，已向群众解释。")
    assert "已办结" in (await organiser.reply()).text
    told = await resident.reply()
    assert "经核实，您反映的问题不属实" in told.text and "系统故障" in told.text


async def test_not_satisfied_reopens_for_the_organisers(harness: Harness) -> None:
    staff = await staffed(harness)
    resident = harness.resident(3302)
    await file_one(resident)
    await substantiate(harness, 1)
    staff.skip_unread()
    resident.skip_unread()
    for label, answer in (("整改方案", "立即整改"), (None, "7")):
        if label:
            await open_card(staff, 1)
            await staff.reply()
            await staff.tap(label)
            await staff.reply()
        await staff.send(answer)
        await staff.reply()
    await open_card(staff, 1)
    await staff.reply()
    await staff.tap("整改完成")
    await staff.reply()
    await staff.send("已经改了。")
    await staff.reply()
    await harness.settle()
    resident.skip_unread()
    await resident.tap("不满意")
    assert "区纠风办会重新审查" in (await resident.reply()).text
    await harness.settle()
    organiser = harness.organiser()
    assert "反映人对处理结果不满意" in organiser.transcript()[-1].text
    organiser.skip_unread()
    await open_card(organiser, 1)
    card = await organiser.reply()
    assert "重新审查中" in card.text and "群众评价：不满意" in card.text
    assert {"重新核实", "退回单位重新整改", "办结"} <= set(card.labels)


async def test_an_invite_is_single_use_and_bound_to_its_first_account(harness: Harness) -> None:
    organiser = harness.organiser()
    code = await invite(harness, organiser, "/invite supervisor")
    first = harness.standin.user(3401, "人大代表老刘")
    assert "行风评议监督员" in await register(harness, first, code)
    assert "行风评议监督员" in await register(harness, first, code)  # again: still them
    other = harness.standin.user(3402, "别人")
    assert "已被他人使用" in await register(harness, other, code)
    assert "链接无效" in await register(harness, other, "inv-forged")
    await organiser.send("/invite staff")  # staff need exactly one unit
    assert "用法" in (await organiser.reply()).text
    await harness.settle()
    commands = harness.standin.world.commands
    assert any(k.startswith("chat:3401") for k in commands)  # the supervisor got a menu
    assert not any(k.startswith("chat:3402") for k in commands)


async def test_findings_and_cases_feed_the_complaint_score(harness: Harness) -> None:
    resident = harness.resident(3501)
    await file_one(resident)
    await substantiate(harness, 1)  # case-1, general: 5
    organiser = harness.organiser()
    await organiser.send("/finding 东街 一般 HT-2026-001 区政务投诉中心查实")
    assert "C 现为 10.00（扣分 10.00）" in (await organiser.reply()).text
    # the same case reported again by a discipline body, punished: counted once, as 10
    await organiser.send("/finding dongjie punished 第1号 纪检处分")  # the code still works
    answer = (await organiser.reply()).text
    assert "C 现为 5.00（扣分 15.00）" in answer and "第 1 号" in answer
    await organiser.send("/finding nowhere general X")
    assert "没有叫“nowhere”的单位" in (await organiser.reply()).text
    await organiser.send("/finding dongjie serious X")
    assert "用法" in (await organiser.reply()).text
    await organiser.send("/summary")
    summary = (await organiser.reply()).text
    assert "东街街道社保所" in summary and "C = 5.00（扣分 15.00）" in summary
    assert "第 1 号 被处分处罚" in summary and "HT-2026-001 一般" in summary
    assert "case-" not in summary


async def test_the_unit_sees_the_photos_and_the_resident_too(harness: Harness) -> None:
    staff = await staffed(harness)
    resident = harness.resident(3601)
    await reach_with_photo(resident)
    await harness.settle()
    for person in (staff, resident):
        person.skip_unread()
        await person.send("/status 1")
        card = await person.reply()
        await person.tap("照片和文件（1）", card)
        photo = await person.reply()
        assert photo.kind == "photo" and "第 1 号，附件 1/1" in photo.text
    stranger = harness.resident(3602, "路人")
    tap = await stranger.press(1, "f:1")
    assert "没有找到第 1 号" in ((await tap.answer()).text or "")
    assert stranger.unread() == []


async def reach_with_photo(user: SimUser) -> None:
    await reach(user, "attach")
    await user.send_photo()
    await user.reply()
    await user.tap("下一步")
    await user.reply()
    await user.tap("对单位匿名")
    await user.reply()
    await user.tap("确认提交")
    await user.reply()
