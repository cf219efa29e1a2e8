"""Telegram answering 429 to every send for a whole minute: nothing is lost, and no call is
made inside the retry_after it was given."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.standin.process import opinion_text, resident_files
from tests.support.harness import Harness

pytestmark = pytest.mark.telegram_pace  # about pacing, or under Telegram's limits

MINUTE = 60.0


@pytest.mark.on_postgresql  # the pace and a 429's hold are kept in PostgreSQL there
@pytest.mark.timeout(300)
async def test_a_minute_of_429s_loses_nothing_and_retry_after_is_honoured(
    harness: Harness,
) -> None:
    residents = [harness.resident(6100 + n, f"居民{n}") for n in range(12)]
    organiser = harness.organiser()  # told of each new case
    await organiser.send("/start")
    await organiser.reply()
    harness.standin.flood(MINUTE)
    started = time.monotonic()

    async def later(n: int) -> int:  # someone who starts while the bot has been told to wait
        await asyncio.sleep(5)
        return await resident_files(residents[n], n, timeout=240)

    filed = await asyncio.wait_for(
        asyncio.gather(
            *(resident_files(r, n, timeout=240) for n, r in enumerate(residents[:-1])),
            later(len(residents) - 1),
        ),
        240,
    )
    await harness.settle(timeout=120)
    took = time.monotonic() - started
    limits = harness.standin.limits
    assert took >= MINUTE  # nothing got through the flood …
    assert filed == [7] * len(residents)  # … and every resident's opinion was filed after it
    texts = [r[0] for r in await harness.services.db.fetchall("SELECT text FROM cases")]
    assert sorted(texts) == sorted(opinion_text(n) for n in range(len(residents)))
    queued = sent = -1
    for _ in range(300):  # notifications refused wait for their retry_after, then go
        counts = await harness.services.db.fetchone(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE sent_at IS NOT NULL) FROM outbox"
        )
        assert counts is not None
        queued, sent = counts[0], counts[1]
        if queued == sent:
            break
        await asyncio.sleep(0.1)
    assert queued == sent > 0  # every notification sent
    notices = [m for m in organiser.transcript() if m.text.startswith("📥")]
    assert len(notices) == len(residents)
    assert limits.refused >= 1  # Telegram did refuse …
    assert limits.ignored == 0  # … and no call came while the bot had been told to wait
