"""Crash: ``kill -9`` during a storm of 2,000 updates, restart, and count what went wrong.

286 residents file an opinion each (7 updates, 2,002 in all) against ``evalbot run`` in
its own process. When 30% and again when 65% of the updates have been sent, the bot is
killed with SIGKILL and started again on the same database. Afterwards the database is
compared with what the residents sent:

- lost: an update sent that is not in the inbox or was never processed, or a resident
  whose case is missing;
- applied twice: a second case from one resident, a case whose text is not exactly what
  was sent (a text applied twice would be doubled), more than one history entry per case.

Also reported: answers the residents received twice (a crash between an answer and the
commit that follows it replays the update; the state is not changed twice, but the
answer is sent again), and SQLite's integrity check.

Run: ``python -m bench.bench_crash [--residents 286] [--kills 0.3,0.65]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import time
from itertools import pairwise

from bot.standin import StandIn
from bot.standin.process import BotProcess, opinion_text, resident_files

ARGV = ["-m", "bot.cli", "run"]


def repeated_questions(standin: StandIn, chat_id: int) -> int:
    """New messages that repeat the one before them word for word (sent again after a
    crash between sending and committing)."""
    sent = [e.snapshot.plain for e in standin.world.events.get(chat_id, []) if e.kind == "message"]
    return sum(1 for a, b in pairwise(sent) if a == b)


async def storm(residents: int, kills: list[float]) -> dict[str, int]:
    async with StandIn() as standin:
        bot = BotProcess(standin, ARGV)
        await bot.start()
        users = [standin.user(30_000 + i, f"居民{i}") for i in range(residents)]
        expected = residents * 7
        pushed = 0
        marks = [int(share * expected) for share in kills]
        reached = asyncio.Event()

        def count(_update: object) -> None:
            nonlocal pushed
            pushed += 1
            if marks and pushed >= marks[0]:
                marks.pop(0)
                reached.set()

        standin.world.on_update = count
        start = time.perf_counter()
        work = asyncio.gather(*(resident_files(u, i, timeout=180) for i, u in enumerate(users)))
        killed = 0
        for _ in kills:
            await reached.wait()
            reached.clear()
            await bot.kill()
            killed += 1
            print(f"  kill -9 after {pushed} updates sent; restarting")
            bot = BotProcess(standin, ARGV, db_path=bot.db_path)
            await bot.start()
        try:
            await work
        except TimeoutError:
            world = standin.world
            print(
                f"  stuck: {pushed} updates sent, {len(world.updates)} not confirmed "
                f"(first {[u['update_id'] for u in world.updates[:5]]}), confirmed up to "
                f"{world.delivered_up_to}; getUpdates calls {world.calls.get('getUpdates')}; "
                f"bot log {bot.log}"
            )
            raise
        elapsed = time.perf_counter() - start
        await bot.stop()
        db_path = bot.db_path
        duplicates = sum(
            sum(
                1
                for a, b in zip(u.events(), u.events()[1:], strict=False)
                if a.snapshot.plain == b.snapshot.plain
            )
            for u in users
        )

    conn = sqlite3.connect(db_path)
    try:
        stored = conn.execute("SELECT COUNT(*) FROM inbox").fetchone()[0]
        undone = conn.execute("SELECT COUNT(*) FROM inbox WHERE done_at IS NULL").fetchone()[0]
        cases = dict(conn.execute("SELECT author_id, COUNT(*) FROM cases GROUP BY author_id"))
        texts = dict(conn.execute("SELECT author_id, text FROM cases"))
        events = dict(
            conn.execute("SELECT case_id, COUNT(*) FROM case_events GROUP BY case_id").fetchall()
        )
        active = conn.execute("SELECT COUNT(*) FROM drafts WHERE flow != ''").fetchone()[0]
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    ids = [u.id for u in users]
    lost = (pushed - stored) + undone + sum(1 for i in ids if i not in cases)
    twice = (
        sum(n - 1 for n in cases.values() if n > 1)
        + sum(1 for n, i in enumerate(ids) if i in texts and texts[i] != opinion_text(n))
        + sum(n - 1 for n in events.values() if n > 1)
    )
    figures = {
        "updates": pushed,
        "kills": killed,
        "lost": lost,
        "applied_twice": twice,
        "answers_repeated": duplicates,
        "unfinished_drafts": active,
        "integrity_ok": int(integrity == "ok"),
        "seconds": round(elapsed),
    }
    print(
        f"{pushed} updates from {residents} residents, {killed} kill -9 and restarts, "
        f"{elapsed:.1f}s: lost {lost}, applied twice {twice}; answers sent again "
        f"{duplicates}; drafts left open {active}; integrity {integrity}"
    )
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=286)
    parser.add_argument("--kills", default="0.3,0.65")
    args = parser.parse_args()
    asyncio.run(storm(args.residents, [float(k) for k in args.kills.split(",")]))
