"""Everyone votes at the meeting: 1,000 evaluators answer 5 items each within one minute,
with 50 ms of latency on every Bot API call, against ``evalbot run`` in its own process.

Set-up, not measured: organisers invite the evaluators (``/invite evaluator``), they open
their links, ``/ballots open`` sends the 5,000 ballots (paced at Telegram's 30/s). Then each
evaluator answers their five ballots at random moments within the same minute. Reported:
whether all 5,000 answers are recorded, the time from the first answer to the last
confirmation, and the 95th percentile from pressing an answer to seeing it confirmed
(the button's answer, and the ballot edited to show it; target under 2 s).

Run: ``python -m bench.bench_ballots [--evaluators 1000] [--latency 0.05]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sqlite3
import statistics
import time

from bench.harness import BotProcess
from bot.campaign import load_campaign
from bot.settings import REPO_EXAMPLE
from bot.standin import SimUser, StandIn

ORGANISER = 100000001
CATEGORIES = (
    "service_user",
    "npc_deputy",
    "cppcc_member",
    "integrity_supervisor",
    "evaluation_rep",
    "public_rep",
)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def invite_all(organiser: SimUser, count: int) -> list[str]:
    codes: list[str] = []
    while len(codes) < count:
        category = CATEGORIES[len(codes) * len(CATEGORIES) // count]
        batch = min(20, count - len(codes))  # one page of links and its QR sheet
        organiser.skip_unread()
        await organiser.send(f"/invite evaluator {category} {batch} dongjie")
        listing, _sheet = await organiser.replies(2, timeout=60)
        codes += re.findall(r"start=(inv-[A-Za-z0-9_-]+)", listing.text)
    return codes


async def run(evaluators: int, latency: float, seed: int = 5) -> dict[str, float]:
    rng = random.Random(seed)
    items = [i.name for i in load_campaign(REPO_EXAMPLE).items]
    async with StandIn(latency=latency) as standin:
        bot = BotProcess(standin, ["-m", "bot.cli", "run"])
        await bot.start()
        try:
            organiser = standin.user(ORGANISER, "纠风办")
            await organiser.send("/start")
            await organiser.reply(timeout=30)
            codes = await invite_all(organiser, evaluators)
            people = [standin.user(60_000 + n, f"代表{n}") for n in range(evaluators)]

            async def register(person: SimUser, code: str) -> None:
                await person.send(f"/start {code}")
                await person.reply(timeout=120)

            await asyncio.gather(*(register(p, c) for p, c in zip(people, codes, strict=True)))
            organiser.skip_unread()
            await organiser.send("/ballots open")
            await organiser.reply(timeout=60)
            print(f"  {evaluators} evaluators registered; waiting for {evaluators * 5} ballots")
            setup = time.perf_counter()
            await asyncio.gather(*(wait_ballots(p, len(items)) for p in people))
            print(f"  ballots delivered in {time.perf_counter() - setup:.0f}s; the vote starts")

            toast: list[float] = []
            shown: list[float] = []
            start = time.perf_counter()

            async def vote(person: SimUser) -> None:
                moments = sorted(rng.uniform(0, 60) for _ in items)
                for moment, item in zip(moments, items, strict=True):
                    delay = start + moment - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    ballot = next(m for m in person.transcript() if item in m.text and m.buttons)
                    choice = rng.randrange(4)
                    pressed = time.perf_counter()
                    tap = await person.press(
                        ballot.message_id, ballot.data[choice // 2][choice % 2]
                    )
                    await tap.answer(timeout=60)
                    toast.append(time.perf_counter() - pressed)
                    await confirmed(person, ballot.message_id)
                    shown.append(time.perf_counter() - pressed)

            await asyncio.gather(*(vote(p) for p in people))
            drained = time.perf_counter() - start
        finally:
            await bot.stop()
    conn = sqlite3.connect(bot.db_path)
    try:
        recorded = conn.execute("SELECT COUNT(*) FROM ballots").fetchone()[0]
        logged = conn.execute("SELECT COUNT(*) FROM ballot_log").fetchone()[0]
    finally:
        conn.close()
    figures = {
        "answers": len(toast),
        "recorded": recorded,
        "logged": logged,
        "drain_s": drained,
        "p95_toast_s": quantile(toast, 0.95),
        "p95_shown_s": quantile(shown, 0.95),
        "median_shown_s": statistics.median(shown),
    }
    print(
        f"{len(toast)} answers from {evaluators} evaluators within a minute, "
        f"{latency * 1000:.0f} ms latency: {recorded} ballots recorded ({logged} log entries); "
        f"first answer to last confirmation {drained:.1f}s; answer → confirmation p95 "
        f"{figures['p95_toast_s']:.2f}s (button), {figures['p95_shown_s']:.2f}s (ballot "
        f"edited), median {figures['median_shown_s']:.2f}s; target p95 < 2 s"
    )
    return figures


async def wait_ballots(person: SimUser, count: int) -> None:
    world = person.standin.world
    await world.wait(
        person.chat_id,
        lambda: sum(1 for m in person.transcript() if "🗳" in m.text) >= count,
        timeout=900,
    )


async def confirmed(person: SimUser, message_id: int) -> None:
    world = person.standin.world

    def ready() -> bool:
        sent = world.message(person.chat_id, message_id)
        return sent is not None and "✅" in sent.plain

    if not await world.wait(person.chat_id, ready, timeout=60):
        raise TimeoutError(f"{person.first_name}'s ballot was not confirmed")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--evaluators", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    asyncio.run(run(args.evaluators, args.latency))
