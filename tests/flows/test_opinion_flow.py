"""A resident files an opinion and follows it, through the stand-in, as they would."""

from __future__ import annotations

from tests.support.harness import Harness


async def test_a_resident_files_an_opinion_and_follows_it(harness: Harness) -> None:
    resident = harness.resident(2001, "王阿姨")
    await resident.send("/start")
    welcome = await resident.reply()
    assert "2026年度街道社保所政风行风评议" in welcome.text
    assert "征集意见、自查自纠" in welcome.text and "← 当前阶段" in welcome.text
    assert welcome.labels == ["📝 提意见、投诉", "📋 我的意见", "ℹ️ 使用说明"]

    await resident.tap("提意见")
    ask_unit = await resident.reply()
    assert "您的意见是针对哪个单位的？" in ask_unit.text
    assert "东街街道社保所" in ask_unit.labels

    await resident.tap("东街街道社保所")
    ask_item = await resident.reply()
    assert ask_item.edited and "您的意见属于哪方面？" in ask_item.text
    assert ask_item.labels[:5] == ["信息公开", "依法办事", "服务质量", "廉洁自律", "制度建设"]
    assert "其他" in ask_item.labels

    await resident.tap("服务质量")
    ask_text = await resident.reply()
    assert "请用您自己的话写下具体情况" in ask_text.text

    await resident.send("窗口工作人员态度冷淡，办理退休手续让我跑了三趟。")
    ask_attach = await resident.reply()
    assert "意见内容已记下，共 24 字" in ask_attach.text
    await resident.send_photo()
    got_photo = await resident.reply()
    assert "附件已收到（第 1 个" in got_photo.text
    await resident.tap("下一步")
    ask_identity = await resident.reply()
    assert "是否让被评单位看到您的姓名" in ask_identity.text

    await resident.tap("对单位匿名")
    confirm = await resident.reply()
    assert "请核对后提交" in confirm.text
    assert "姓名：对单位匿名" in confirm.text and "附件：1 个" in confirm.text
    assert "跑了三趟" in confirm.text

    await resident.tap("确认提交")
    filed = await resident.reply()
    assert "提交成功，您的案件编号是 1" in filed.text

    await resident.send("/status")
    listing = await resident.reply()
    assert "第 1 号" in listing.text and "已受理" in listing.text
    await resident.send("/status 1")
    card = await resident.reply()
    assert "东街街道社保所" in card.text and "跑了三趟" in card.text and "办理经过" in card.text
