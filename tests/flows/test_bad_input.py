"""Whatever a person sends, at whatever step, gets a clear answer or is ignored; nothing is
lost and nothing the API would refuse is sent (the stand-in refuses what Telegram does)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from io import BytesIO

import pytest
from openpyxl import load_workbook

from bot.db import cases as case_store
from bot.db import flows as flow_store
from bot.standin import SimUser
from tests.support.harness import STEPS, Harness, file_one, reach
from tests.support.helpers import errors_logged


async def flow_step(harness: Harness, user_id: int) -> str | None:
    flow = await flow_store.get_flow(harness.services.db, user_id)
    return flow.step if flow is not None else None


async def case_count(harness: Harness) -> int:
    return int(await harness.services.db.fetchval("SELECT COUNT(*) FROM cases"))


@pytest.mark.parametrize("step", STEPS)
async def test_cancel_works_at_every_step(harness: Harness, step: str) -> None:
    user = harness.resident(2101)
    await reach(user, step)
    await user.send("/cancel")
    assert "已取消，没有提交任何内容" in (await user.reply()).text
    await harness.settle()
    assert await flow_step(harness, 2101) is None
    assert await case_count(harness) == 0


@pytest.mark.parametrize("step", STEPS)
async def test_the_cancel_button_works_at_every_step(harness: Harness, step: str) -> None:
    user = harness.resident(2102)
    await reach(user, step)
    await user.tap("取消")
    assert "已取消" in (await user.reply()).text
    await harness.settle()
    assert await flow_step(harness, 2102) is None


async def test_nothing_to_cancel(harness: Harness) -> None:
    user = harness.resident(2103)
    await user.send("/cancel")
    assert "当前没有要取消的内容" in (await user.reply()).text


@pytest.mark.parametrize(
    "send",
    [
        lambda u: u.send_sticker(),
        lambda u: u.send_other(location={"latitude": 39.9, "longitude": 116.4}),
        lambda u: u.send_other(voice={"file_id": "v1", "file_unique_id": "v1u", "duration": 3}),
        lambda u: u.send_other(contact={"phone_number": "+8613800000000", "first_name": "王"}),
    ],
    ids=["sticker", "location", "voice", "contact"],
)
async def test_things_that_are_not_text_where_text_is_expected(
    harness: Harness, send: Callable[[SimUser], Awaitable[object]]
) -> None:
    user = harness.resident(2104)
    await reach(user, "text")
    await send(user)
    answer = await user.reply()
    assert "这里只能接收文字、照片和文件" in answer.text
    assert "请用您自己的话写下具体情况" in answer.text  # the question is asked again
    await harness.settle()
    assert await flow_step(harness, 2104) == "text"


async def test_ten_thousand_characters_are_refused_with_the_reason(harness: Harness) -> None:
    user = harness.resident(2105)
    await reach(user, "text")
    await user.send("长" * 10_000)
    answer = await user.reply()
    assert "您的文字有 10000 字，超过了 3000 字的上限" in answer.text
    await harness.settle()
    assert await flow_step(harness, 2105) == "text"
    await user.send("短一点的意见。")
    assert "共 7 字" in (await user.reply()).text


async def test_a_long_text_in_several_messages_is_joined_until_the_limit(harness: Harness) -> None:
    user = harness.resident(2106)
    await reach(user, "attach", text="甲" * 2000)
    await user.send("乙" * 900)
    assert "共 2901 字" in (await user.reply()).text
    await user.send("丙" * 200)
    refused = await user.reply()
    assert "意见将有 3102 字，超过了 3000 字的上限" in refused.text
    assert "前面的内容（2901 字）已保留" in refused.text


@pytest.mark.parametrize(
    "text",
    [
        "<b>粗体</b> & <script>alert(1)</script>",
        "*星号* _下划线_ [链接](http://x) `代码` ~删除~ \\反斜杠",
        "&amp; &lt; &#39; 1 < 2 > 0",
        "👍🏻👨‍👩‍👧 社保 😡",
        "\"引号\" '单引号'",
    ],
    ids=["html", "markdown", "entities", "emoji", "quotes"],
)
async def test_user_text_is_kept_exactly_and_shown_escaped(harness: Harness, text: str) -> None:
    user = harness.resident(2107)
    await reach(user, "identity", text=text)
    await user.tap("对单位匿名")
    confirm = await user.reply()
    assert text in confirm.text  # the stand-in parsed the HTML back to exactly this
    await user.tap("确认提交")
    await user.reply()
    await harness.settle()
    case = await case_store.get_case(harness.services.db, 1)
    assert case is not None and case.text == text
    await user.send("/status 1")
    assert text in (await user.reply()).text


async def test_a_photo_without_caption_asks_for_words(harness: Harness) -> None:
    user = harness.resident(2108)
    await reach(user, "text")
    await user.send_photo(caption="")
    answer = await user.reply()
    assert "附件已收到（第 1 个" in answer.text and "请再用文字说明一下情况" in answer.text
    await user.send("照片里是排队的人群。")
    attach = await user.reply()
    assert "已收到附件：1 个" in attach.text


async def test_a_caption_counts_as_the_text(harness: Harness) -> None:
    user = harness.resident(2109)
    await reach(user, "text")
    await user.send_photo(caption="大厅没有叫号机")
    answer = await user.reply()
    assert "共 7 字" in answer.text and "已收到附件：1 个" in answer.text


async def test_an_album_is_answered_once_and_every_photo_kept(harness: Harness) -> None:
    user = harness.resident(2110)
    await reach(user, "attach")
    await user.send_album(3)
    first = await user.reply()
    assert "附件已收到（第 1 个" in first.text
    await harness.settle()
    assert user.unread() == []
    await user.tap("下一步")
    await user.reply()
    await user.tap("实名")
    assert "附件：3 个" in (await user.reply()).text


async def test_attachments_beyond_the_limit_are_refused(harness: Harness) -> None:
    user = harness.resident(2111)
    await reach(user, "attach")
    for n in range(1, 6):
        await user.send_document(f"材料{n}.pdf")
        assert f"第 {n} 个" in (await user.reply()).text
    await user.send_document("材料6.pdf")
    assert "附件最多 5 个，这一个没有加上" in (await user.reply()).text


async def test_typing_where_a_button_is_expected(harness: Harness) -> None:
    user = harness.resident(2112)
    await reach(user, "unit")
    await user.send("随便写点什么")  # no office is called that: the list again, and why
    answer = await user.reply()
    assert "没有名称包含“随便写点什么”的单位" in answer.text
    assert "东街街道社保所" in answer.labels and "第 1 步" in answer.text
    await user.send("东街")  # a few characters of a name find the office
    assert "已找到：东街街道社保所" in (await user.reply()).text
    await user.send("服务质量")  # the item step takes buttons only
    answer = await user.reply()
    assert "请用下面的按钮回答" in answer.text and "服务质量" in answer.labels


async def test_commands_in_the_middle_of_a_flow_keep_it(harness: Harness) -> None:
    user = harness.resident(2113)
    await reach(user, "attach")
    await user.send("/status")
    assert "您还没有提交过意见" in (await user.reply()).text
    await user.send("/help")
    assert "使用说明" in (await user.reply()).text
    await user.send("/start")
    welcome = await user.reply()
    assert "您还有未完成的关于东街街道社保所的意见" in welcome.text
    await user.tap("继续填写")
    resumed = await user.reply()
    assert "这是您还没填完的意见" in resumed.text and "第 4 步" in resumed.text
    await user.send("/nonsense")
    assert "没有这个命令" in (await user.reply()).text
    await harness.settle()
    assert await flow_step(harness, 2113) == "attach"


async def test_stale_and_forged_buttons(harness: Harness) -> None:
    user = harness.resident(2114)
    await reach(user, "text")
    old_prompt = user.latest()
    await user.send("文字")
    await user.reply()  # the attachments step, in a new message
    # a button of an earlier step, pressed on an earlier message (as a client still could)
    stale = await user.press(old_prompt.message_id, "u:dongjie")
    assert "前面步骤的按钮" in ((await stale.answer()).text or "")
    for forged in ("u:nowhere", "zzz", "u", "i:a:b", "k:abc", "c:launch"):
        tap = await user.press(user.latest().message_id, forged)
        assert (await tap.answer()).text, forged
    await harness.settle()
    assert await flow_step(harness, 2114) == "attach"


async def test_a_button_of_a_closed_form(harness: Harness) -> None:
    user = harness.resident(2115)
    await reach(user, "unit")
    form = user.latest()
    await user.send("/cancel")
    await user.reply()
    tap = await user.press(form.message_id, "u:dongjie")
    assert "这份意见已结束" in ((await tap.answer()).text or "")


async def test_editing_the_text_while_writing_and_after_filing(harness: Harness) -> None:
    user = harness.resident(2116)
    await reach(user, "text")
    await user.send("排队三个小时")
    await user.reply()
    typed = user.sent[-1]
    await user.edit(typed, "排队两个小时")
    assert "已按您修改后的消息更新意见内容" in (await user.reply()).text
    await user.tap("下一步")
    await user.reply()
    await user.tap("对单位匿名")
    assert "排队两个小时" in (await user.reply()).text
    await user.tap("确认提交")
    await user.reply()
    await user.edit(typed, "排队一个小时")
    assert "不会改变已提交的意见" in (await user.reply()).text
    await harness.settle()
    case = await case_store.get_case(harness.services.db, 1)
    assert case is not None and case.text == "排队两个小时"


async def test_groups_are_pointed_to_the_private_chat_or_ignored(harness: Harness) -> None:
    group = harness.standin.group(-1001234, "东街居民群")
    member = harness.resident(2117)
    await group.send(member, "社保所的服务真差")
    await group.send(member, "/start@evalbot_standin_bot")
    await harness.settle()
    said = group.transcript()
    assert len(said) == 1
    assert "请在与我的私聊中提交" in said[0].text
    assert said[0].data == (("https://t.me/evalbot_standin_bot",),)
    assert member.transcript() == []


async def test_status_shows_only_your_own_cases(harness: Harness) -> None:
    author = harness.resident(2118)
    assert "提交成功" in await file_one(author)
    other = harness.resident(2119, "邻居")
    for command in ("/status 1", "/status 2"):
        await other.send(command)
        assert "没有找到" in (await other.reply()).text
    for command in ("/status abc", "/status 99999999999", "/status -1"):
        await other.send(command)
        assert "请写上案件编号" in (await other.reply()).text
    organiser = harness.organiser()
    await organiser.send("/status 1")
    card = (await organiser.reply()).text
    assert "反映人：王阿姨（对单位匿名）" in card and "渠道：电报机器人" in card


async def test_english_speakers_get_english(harness: Harness) -> None:
    user = harness.resident(2120, "John", lang="en-GB")
    await user.send("/start")
    welcome = await user.reply()
    assert "Here you can send an opinion" in welcome.text
    assert welcome.labels[0] == "📝 Send an opinion or complaint"
    await user.send("/opinion")
    assert "Which office is your opinion about?" in (await user.reply()).text


@pytest.mark.on_postgresql
async def test_control_characters_are_stored_as_sent_and_exported_safely(
    harness: Harness,
) -> None:
    resident = harness.resident(2131)
    odd = "窗口\x07人员\x1b态度\x00差 =1+1"
    await file_one(resident, odd)
    organiser = harness.organiser()
    await organiser.send("/proposal dongjie 约谈\x08所长")
    await organiser.reply()
    stored = await harness.services.db.fetchval("SELECT text FROM cases")
    if harness.backend == "postgresql":  # its text cannot hold U+0000: kept as ␀ (design §13)
        assert stored == odd.replace("\x00", "\u2400")
    else:
        assert stored == odd  # kept exactly as it was sent
    await harness.settle()  # the notice of the new case has reached the organiser
    for which in ("cases", "results"):
        organiser.skip_unread()
        await organiser.send(f"/export {which}")
        sheet = await organiser.reply()
        assert sheet.kind == "document", which
        book = load_workbook(BytesIO(harness.standin.world.uploads[-1]))
        cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
        texts = {c.value for c in cells if isinstance(c.value, str)}
        assert "窗口␇人员␛态度␀差 =1+1" in texts, which  # shown as visible symbols
        assert all(c.data_type != "f" for c in cells), which  # "=…" never a formula
    assert "约谈␈所长" in texts


@pytest.mark.parametrize(
    "command",
    [
        "/status ²",
        "/history ①",
        "/hot ²",
        "/hot dongjie ³",
        "/invite evaluator service_user ²",
        "/daily dongjie ²",
        "/status ٣٣٣٣٣٣٣٣٣٣",
    ],
)
async def test_numbers_that_are_not_numbers_get_an_answer(harness: Harness, command: str) -> None:
    organiser = harness.organiser()
    with errors_logged() as errors:
        await organiser.send(command)
        answer = await organiser.reply()
    assert answer.text and "出错" not in answer.text
    assert not errors.records


async def test_numbers_in_other_scripts_are_read_as_numbers(harness: Harness) -> None:
    resident = harness.resident(2132)
    await file_one(resident)
    await resident.send("/status １")  # full-width, as a Chinese keyboard types it
    assert "第 1 号" in (await resident.reply()).text
    organiser = harness.organiser()
    await harness.settle()  # the notice of the new case has reached the organiser
    organiser.skip_unread()
    await organiser.send("/daily dongjie ９．５")
    assert "9.50" in (await organiser.reply()).text


async def test_a_press_without_a_message_is_answered(harness: Harness) -> None:
    resident = harness.resident(2133)
    with errors_logged() as errors:
        tap = await resident.press_inline("m:opinion")
        assert "按钮" in ((await tap.answer()).text or "")
        await harness.settle()
    assert not errors.records
