"""The same load on SQLite and on PostgreSQL, and on one PostgreSQL instance against two.

Residents file whole opinions (7 updates each, each sent after the answer to the one
before) against ``evalbot run`` processes and the stand-in in this process, with 50 ms of
latency on every Bot API call. In one run, interleaved round by round so every setting sees
the same machine:

- ``sqlite``: one instance, long polling, a SQLite file (the default);
- ``pg``: one instance, long polling, PostgreSQL (a throwaway cluster on loopback,
  bot/db/pgcluster.py: fsync off, as SQLite's WAL with synchronous=NORMAL does not sync
  each commit either);
- ``pg-webhook-1`` and ``pg-webhook-2``: one and two instances in webhook mode behind a
  round-robin proxy (bot/standin/process.py), sharing one PostgreSQL database.

Reported: updates a second for each, and the ratios pg/sqlite and two/one instances.
Run: ``python -m bench.bench_backends [--residents 200] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import asyncpg

from bot.db import pgcluster
from bot.standin import StandIn
from bot.standin.process import BotProcess, RoundRobin, free_port, resident_files

RUN = ["-m", "bot.cli", "run"]
SECRET = "bench_secret"


async def new_database(cluster: pgcluster.Cluster, name: str) -> str:
    conn = await asyncpg.connect(cluster.url())
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return cluster.url(name)


CPU: dict[str, list[float]] = {}  # setting: the bots' CPU milliseconds an update


async def load(standin: StandIn, residents: int, bots: list[BotProcess], name: str) -> float:
    users = [standin.user(10_000 + i, f"居民{i}") for i in range(residents)]
    cpu = sum(b.cpu_seconds() for b in bots)
    start = time.perf_counter()
    sent = await asyncio.gather(*(resident_files(u, i) for i, u in enumerate(users)))
    elapsed = time.perf_counter() - start
    used = sum(b.cpu_seconds() for b in bots) - cpu
    CPU.setdefault(name, []).append(1000 * used / sum(sent))
    return sum(sent) / elapsed


async def polling(db: str | None, folder: Path, residents: int, latency: float) -> float:
    async with StandIn(latency=latency) as standin:
        env = {"EVALBOT_BALLOT_KEY": str(folder / "ballot-key")}
        bot = BotProcess(standin, RUN, folder / "b.sqlite3", db=db, env=env, log=folder / "b.log")
        await bot.start()
        try:
            return await load(standin, residents, [bot], "pg" if db else "sqlite")
        finally:
            await bot.stop()


async def webhook(db: str, folder: Path, residents: int, latency: float, count: int) -> float:
    ports = [free_port() for _ in range(count)]
    env = {"EVALBOT_BALLOT_KEY": str(folder / "ballot-key")}
    async with StandIn(latency=latency) as standin, RoundRobin(ports) as proxy:
        hook = f"http://127.0.0.1:{proxy.port}/hook"
        bots = [
            BotProcess(
                standin,
                [*RUN, "--webhook", hook, "--port", str(port), "--secret-token", SECRET],
                db=db,
                env=env,
                log=folder / f"w{n}.log",
            )
            for n, port in enumerate(ports)
        ]
        for bot in bots:
            await bot.start(said=b"webhook listening on")
        try:
            return await load(standin, residents, bots, f"pg-webhook-{count}")
        finally:
            for bot in bots:
                await bot.stop()


async def one(
    cluster: pgcluster.Cluster, name: str, database: str, residents: int, latency: float
) -> float:
    """One setting's updates a second, on a new database."""
    with tempfile.TemporaryDirectory(prefix="evalbot-backends-") as scratch:
        folder = Path(scratch)
        if name == "sqlite":
            return await polling(None, folder, residents, latency)
        db = await new_database(cluster, database)
        if name == "pg":
            return await polling(db, folder, residents, latency)
        return await webhook(db, folder, residents, latency, int(name[-1]))


async def main(residents: int, rounds: int, latency: float) -> None:
    cluster, why = pgcluster.start()
    if cluster is None:
        raise SystemExit(f"bench_backends needs PostgreSQL: {why}")
    names = ("sqlite", "pg", "pg-webhook-1", "pg-webhook-2")
    rates: dict[str, list[float]] = {n: [] for n in names}
    try:
        for r in range(rounds):
            for name in names:
                rate = await one(
                    cluster, name, f"b{r}_{name.replace('-', '_')}", residents, latency
                )
                rates[name].append(rate)
                print(f"round {r + 1}: {name:<13} {rate:6.1f} updates/s", flush=True)
    finally:
        cluster.stop()
    median = {n: statistics.median(v) for n, v in rates.items()}
    print(
        f"{residents} residents × 7 updates, {latency * 1000:.0f} ms latency, medians of {rounds}:"
    )
    for name in names:
        print(
            f"  {name:<13} {median[name]:6.1f} updates/s; the bots' CPU "
            f"{statistics.median(CPU[name]):.1f} ms an update"
        )
    pairs = [rates["pg"][i] / rates["sqlite"][i] for i in range(rounds)]
    two = [rates["pg-webhook-2"][i] / rates["pg-webhook-1"][i] for i in range(rounds)]
    print(f"  PostgreSQL / SQLite (one instance, polling): {statistics.median(pairs):.2f}")
    print(f"  two instances / one (webhook, PostgreSQL):   {statistics.median(two):.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    asyncio.run(main(args.residents, args.rounds, args.latency))
