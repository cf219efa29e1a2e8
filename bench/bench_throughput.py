"""Throughput: 200 residents filing opinions at once, against a PTB echo bot.

Both bots run as their own process against the stand-in in this process. Each resident
files a whole opinion (7 updates, each sent after the answer to the one before); each
echo user sends 7 texts the same way. Reported: updates a second, and the ratios

- without latency: evalbot / echo bot (target ≥ 0.8);
- with 50 ms on every API call: evalbot / the echo bot with PTB's default one-update-
  at-a-time processing (target ≥ 10), for several numbers of lanes, and evalbot with one
  lane (the same one-at-a-time processing, our code).

Run: ``python -m bench.bench_throughput [--residents 200] [--lanes 1,8,16,32,64,128]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from bot.standin import StandIn
from bot.standin.process import BotProcess, echo_user, resident_files

UPDATES_EACH = 7


async def run_evalbot(residents: int, lanes: int, latency: float) -> float:
    async with StandIn(latency=latency) as standin:
        bot = BotProcess(standin, ["-m", "bot.cli", "run", "--lanes", str(lanes)])
        await bot.start()
        try:
            users = [standin.user(10_000 + i, f"居民{i}") for i in range(residents)]
            start = time.perf_counter()
            sent = await asyncio.gather(*(resident_files(u, i) for i, u in enumerate(users)))
            elapsed = time.perf_counter() - start
        finally:
            await bot.stop()
    return sum(sent) / elapsed


async def run_echo(users_count: int, latency: float) -> float:
    async with StandIn(latency=latency) as standin:
        bot = BotProcess(standin, ["-m", "bench.echo_bot"])
        await bot.start()
        try:
            users = [standin.user(20_000 + i, f"user{i}") for i in range(users_count)]
            start = time.perf_counter()
            sent = await asyncio.gather(*(echo_user(u, UPDATES_EACH) for u in users))
            elapsed = time.perf_counter() - start
        finally:
            await bot.stop()
    return sum(sent) / elapsed


async def main(residents: int, lanes_list: list[int], latency: float, pairs: int = 3) -> None:
    print(f"{residents} residents × {UPDATES_EACH} updates; bots in their own processes")
    ratios = []
    for _ in range(pairs):  # interleaved, so both bots see the same machine
        echo = await run_echo(residents, 0.0)
        ours = await run_evalbot(residents, 64, 0.0)
        ratios.append(ours / echo)
        print(
            f"no latency: echo bot {echo:.0f} updates/s; evalbot (64 lanes) {ours:.0f} "
            f"updates/s; ratio {ours / echo:.2f}"
        )
    print(f"no latency: median ratio {statistics.median(ratios):.2f} (target ≥ 0.8)")
    if not lanes_list:
        return
    echo_slow = await run_echo(residents, latency)
    print(
        f"{latency * 1000:.0f} ms latency: echo bot, one update at a time: "
        f"{echo_slow:.1f} updates/s"
    )
    for lanes in lanes_list:
        rate = await run_evalbot(residents, lanes, latency)
        print(
            f"  evalbot, {lanes:>3} lanes: {rate:6.1f} updates/s; ratio to the echo bot "
            f"{rate / echo_slow:5.1f} (target ≥ 10)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--lanes", default="1,8,16,32,64,128")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--pairs", type=int, default=3, help="no-latency runs of each bot")
    args = parser.parse_args()
    lanes = [int(x) for x in args.lanes.split(",") if x]
    asyncio.run(main(args.residents, lanes, args.latency, args.pairs))
