"""The outbox delivers every notification once, in order per chat, within the limits."""

from __future__ import annotations

import pytest

from bot.db import outbox as outbox_store
from tests.support.harness import Harness
from tests.support.helpers import restart

pytestmark = pytest.mark.telegram_pace  # about pacing, or under Telegram's limits


async def queue(harness: Harness, chat_ids: list[int], text: str = "通知") -> None:
    services = harness.services
    async with services.db.transaction() as tx:
        for n, chat_id in enumerate(chat_ids):
            await outbox_store.enqueue(
                tx,
                chat_id,
                "sendMessage",
                {"text": f"{text} {n}"},
                services.clock.now(),
                f"{text}:{n}:{chat_id}",
            )
    services.outbox.wake()


async def test_many_chats_within_the_overall_limit(harness: Harness) -> None:
    harness.standin.limits.per_second = 30
    users = [harness.resident(4000 + i) for i in range(45)]
    await queue(harness, [u.id for u in users])
    await harness.settle()
    assert all(len(u.transcript()) == 1 for u in users)
    assert harness.standin.limits.refused == 0  # paced, never refused


async def test_one_chat_reads_its_notifications_in_order(harness: Harness) -> None:
    harness.standin.limits.per_chat = 1
    user = harness.resident(4100)
    await queue(harness, [user.id] * 3)
    await harness.settle()
    assert [m.text for m in user.transcript()] == ["通知 0", "通知 1", "通知 2"]
    assert harness.standin.limits.refused == 0


async def test_a_flood_answer_is_honoured_and_nothing_is_lost(harness: Harness) -> None:
    users = [harness.resident(4200 + i) for i in range(5)]
    harness.standin.flood(2.0)
    await queue(harness, [u.id for u in users])
    await harness.settle()
    assert all(len(u.transcript()) == 1 for u in users)
    # one refusal tells the outbox to wait; it does not keep knocking during the wait
    assert 1 <= harness.standin.limits.refused <= 2
    assert harness.bot.require_outbox().rate_limited == harness.standin.limits.refused


@pytest.mark.on_postgresql
async def test_a_restart_sends_nothing_twice(harness: Harness) -> None:
    users = [harness.resident(4300 + i) for i in range(4)]
    await queue(harness, [u.id for u in users])
    await harness.settle()
    await restart(harness)
    await queue(harness, [u.id for u in users])  # the same keys: already queued once
    await harness.settle()
    assert [len(u.transcript()) for u in users] == [1, 1, 1, 1]
    counts = await outbox_store.counts(harness.services.db)
    assert (counts.pending, counts.sent, counts.failed) == (0, 4, 0)
