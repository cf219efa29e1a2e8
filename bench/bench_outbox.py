"""The outbox drains 10,000 notifications through the stand-in held to Telegram's limits.

The stand-in answers 429 with retry_after above 30 messages a second overall (and above
one a second per chat); 2,000 residents get five notifications each. Reported: messages a
second as a share of 30 (target ≥ 0.9), how many were lost or sent twice (each resident's
chat is read), how many 429s were answered and how many sends came inside a retry_after
already given (every 429 honoured: 0). At 30% the stand-in answers 429 to everything for
five seconds, so that the honouring is exercised, not only the pacing.

Run: ``python -m bench.bench_outbox [--count 10000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
import time
from pathlib import Path

from bot.app import EvalBot
from bot.campaign import load_campaign
from bot.clock import FakeClock
from bot.db import outbox as outbox_store
from bot.settings import REPO_EXAMPLE
from bot.standin import FloodLimits, StandIn

LIMIT = 30


async def drain(
    count: int, per_user: int = 5, flood_at: float = 0.3, flood_seconds: float = 5.0
) -> dict[str, float]:
    limits = FloodLimits(per_second=LIMIT, per_chat=1, per_group_minute=20)
    users_count = max(1, count // per_user)
    async with StandIn(limits=limits) as standin:
        users = [standin.user(50_000 + i, f"居民{i}") for i in range(users_count)]
        with tempfile.TemporaryDirectory() as scratch:
            bot = EvalBot(
                load_campaign(REPO_EXAMPLE),
                standin.token,
                str(Path(scratch) / "o.sqlite3"),
                base_url=standin.base_url,
                clock=FakeClock(dt.datetime.now(dt.UTC)),
                run_jobs=False,
            )
            await bot.start()
            services = bot.require_services()
            try:
                now = services.clock.now()
                async with services.db.transaction() as tx:
                    for n in range(count):
                        user = users[n % users_count]
                        await outbox_store.enqueue(
                            tx,
                            user.id,
                            "sendMessage",
                            {"text": f"通知 {n // users_count}"},
                            now,
                            f"bench:{n}",
                        )
                start = time.perf_counter()
                services.outbox.wake()
                flooded = flood_at <= 0
                while (progress := await outbox_store.counts(services.db)).pending:
                    if not flooded and progress.sent >= flood_at * count:
                        standin.flood(flood_seconds)  # Telegram says "wait" to everything
                        flooded = True
                    await asyncio.sleep(0.2)
                elapsed = time.perf_counter() - start
                counts = await outbox_store.counts(services.db)
            finally:
                await bot.stop()
        received = [len(u.transcript()) for u in users]
        expected = [
            count // users_count + (1 if i < count % users_count else 0) for i in range(users_count)
        ]
        lost = sum(max(0, e - r) for e, r in zip(expected, received, strict=True))
        twice = sum(max(0, r - e) for e, r in zip(expected, received, strict=True))
        rate = counts.sent / elapsed
        figures = {
            "sent": counts.sent,
            "failed": counts.failed,
            "seconds": elapsed,
            "per_second": rate,
            "share": rate / LIMIT,
            "lost": lost,
            "twice": twice,
            "answered_429": limits.refused,
            "ignored_429": limits.ignored,
        }
    print(
        f"{count} notifications to {users_count} chats in {elapsed:.1f}s: {rate:.2f}/s, "
        f"{rate / LIMIT:.3f} of the {LIMIT}/s limit (target ≥ 0.9); lost {lost}, sent twice "
        f"{twice}, failed {counts.failed}; 429 answered {limits.refused}, sends inside a "
        f"retry_after {limits.ignored}"
    )
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--flood-at", type=float, default=0.3, help="0: no forced flood")
    args = parser.parse_args()
    asyncio.run(drain(args.count, flood_at=args.flood_at))
