"""Restarts, replays and abandoned flows: nothing is lost and nothing happens twice."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.chat import flows
from bot.db import flows as flow_store
from tests.support.harness import Harness, file_one, reach
from tests.support.helpers import restart, staffed

# replays and restarts: what each backend keeps across them
pytestmark = pytest.mark.on_postgresql


async def test_an_opinion_in_progress_survives_a_restart(harness: Harness) -> None:
    user = harness.resident(2201)
    await reach(user, "attach")
    await harness.settle()
    await restart(harness)
    await user.tap("下一步")
    assert "是否让被评单位看到您的姓名" in (await user.reply()).text
    await user.tap("实名")
    await user.reply()
    await user.tap("确认提交")
    assert "提交成功，您的案件编号是 1" in (await user.reply()).text


async def test_updates_replayed_after_a_crash_change_nothing_twice(harness: Harness) -> None:
    user = harness.resident(2202)
    await reach(user, "confirm")
    await user.tap("确认提交")
    await user.reply()
    await user.send("/opinion")  # a new opinion begins after the first was filed
    await user.reply()
    await harness.settle()
    db = harness.services.db
    # As if the process had died before marking any of these updates done:
    async with db.transaction() as tx:
        await tx.execute("UPDATE inbox SET done_at = NULL")
    replayed = int(await db.fetchval("SELECT COUNT(*) FROM inbox WHERE done_at IS NULL"))
    assert replayed >= 8
    before = len(user.transcript())
    await restart(harness)
    await harness.settle()
    db = harness.services.db
    assert await db.fetchval("SELECT COUNT(*) FROM inbox WHERE done_at IS NULL") == 0
    assert await db.fetchval("SELECT COUNT(*) FROM cases") == 1
    assert await db.fetchval("SELECT COUNT(*) FROM case_events") == 1
    flow = await flow_store.get_flow(db, 2202)
    assert flow is not None and flow.step == "unit"
    # every update was already applied, so the replay sent nobody anything
    assert len(user.transcript()) == before


async def test_an_abandoned_flow_ends_by_itself(harness: Harness) -> None:
    user = harness.resident(2203)
    await reach(user, "item")
    await harness.settle()
    minutes = harness.campaign.intake.draft_timeout_minutes
    harness.clock.advance(dt.timedelta(minutes=minutes - 1))
    assert await flows.expire(harness.services) == 0
    harness.clock.advance(dt.timedelta(minutes=2))
    assert await flows.expire(harness.services) == 1
    assert await flows.expire(harness.services) == 0  # twice does no harm
    await harness.settle()
    notice = user.transcript()[-1]
    assert "已超过 30 分钟没有操作，已自动结束" in notice.text
    form = next(m for m in reversed(user.transcript()) if "第 2 步" in m.text)
    assert user.latest().message_id == notice.message_id
    # the form's buttons were taken away; a client that still shows them gets a clear answer
    assert user.current(form.message_id).buttons == ()
    tap = await user.press(form.message_id, "i:service")
    assert "这份意见已结束" in ((await tap.answer()).text or "")


async def test_a_resident_who_blocked_the_bot_is_not_retried(harness: Harness) -> None:
    user = harness.resident(2204)
    await user.send("/start")
    await user.reply()
    await reach(user, "unit")
    await harness.settle()
    user.block()
    harness.clock.advance(dt.timedelta(hours=1))
    await flows.expire(harness.services)
    await harness.settle()
    db = harness.services.db
    row = await db.fetchone("SELECT COUNT(*) AS failed FROM outbox WHERE failed_at IS NOT NULL")
    assert row is not None and row["failed"] == 2  # the notice and the button removal
    assert await db.fetchval("SELECT blocked_at IS NOT NULL FROM users WHERE user_id = 2204") == 1
    assert (
        await db.fetchval("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL")
        == 0
    )


async def test_a_move_replayed_after_a_crash_shows_its_card_again(harness: Harness) -> None:
    """The move was committed, then the process died before the card was sent (or before
    the update was marked done): the replay finds the move made by this very update and
    shows the card, instead of refusing the move as already made and saying nothing."""
    staff = await staffed(harness, "dongjie", 2301)
    resident = harness.resident(2302, "王阿姨")
    await file_one(resident)
    await harness.settle()
    staff.skip_unread()  # the notice of the new case
    await staff.tap("打开第 1 号")
    await staff.reply()
    tap = await staff.tap("开始核实")
    assert "核实中" in (await staff.reply()).text
    await harness.settle()
    db = harness.services.db
    async with db.transaction() as tx:
        await tx.execute("UPDATE inbox SET done_at = NULL WHERE update_id = ?", (tap.update_id,))
    told = len(resident.transcript())
    await restart(harness)
    await harness.settle()
    again = await staff.reply()
    assert "第 1 号" in again.text and "核实中" in again.text
    moves = await harness.services.db.fetchval(
        "SELECT COUNT(*) FROM case_events WHERE move = 'verify'"
    )
    assert moves == 1
    assert len(resident.transcript()) == told  # the resident was told once


async def test_a_publication_replayed_after_a_crash_says_it_was_published(
    harness: Harness,
) -> None:
    """/publish published, and the process died before it said so: the replay says it was
    published, instead of asking whether to publish again (which, pressed, would have
    sent the ranking to everyone a second time)."""
    reader = harness.resident(2401, "订阅的居民")
    await reader.send("/subscribe")
    await reader.reply()
    organiser = harness.organiser()
    organiser.skip_unread()
    await organiser.send("/publish")
    await organiser.reply()  # the preview
    await organiser.tap("公布")
    assert "正在发送到 2 处" in (await organiser.reply()).text
    await harness.settle()
    update_id = await harness.services.db.fetchval("SELECT MAX(update_id) FROM inbox")
    async with harness.services.db.transaction() as tx:
        await tx.execute("UPDATE inbox SET done_at = NULL WHERE update_id = ?", (update_id,))
    await restart(harness)
    await harness.settle()
    again = (await organiser.reply()).text
    assert "正在发送到 2 处" in again and "公布前请核对" not in again
    assert await harness.services.db.fetchval("SELECT COUNT(*) FROM publications") == 1
    assert len([m for m in reader.transcript() if m.kind == "photo"]) == 1
