"""/rank with 300 units and 1,000,000 stored ballots.

A campaign of 300 units; 1,000,000 ballots spread over them (5 items, 6 categories, the
four answers); findings and daily scores for some. Reported: the time of a /rank (reading
the running tallies, scoring, and the text a user reads) and its ratio to a bare GROUP BY
over the ballots table, both measured interleaved in the same process. Target: < 200 ms.
Then an organiser sends /rank to the bot through the Bot API stand-in, which refuses what
Telegram refuses: reported, how many messages the ranking took, that every office is in
them once and that no call was refused, and the time from the command to the last
message.

Run: ``python -m bench.bench_rank [--units 300] [--ballots 1000000]
[--db sqlite|postgresql|both]``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

import asyncpg

from bot.app import EvalBot
from bot.campaign import Campaign, parse_campaign
from bot.clock import iso
from bot.db import pgcluster
from bot.db.tallies import rebuild as rebuild_tallies
from bot.results.ranking import current_ranking, snapshot
from bot.settings import REPO_EXAMPLE
from bot.standin import StandIn
from scoring import ANSWERS as SCORED

ANSWERS = tuple(a.value for a in SCORED)


def campaign_text(units: int) -> str:
    text = REPO_EXAMPLE.read_text(encoding="utf-8")
    start = text.index("[[units]]")
    end = text.index("# The evaluation items")
    many = "".join(
        f'[[units]]\nid = "u{n:03d}"\nname = "第{n}街道社保所"\n\n' for n in range(units)
    )
    return text[:start] + many + text[end:]


async def fill(bot: EvalBot, units: int, ballots: int, seed: int = 11) -> None:
    services = await bot.open_services()
    bot.services = services
    rng = random.Random(seed)
    categories = [c.id for c in bot.campaign.categories]
    items = [i.id for i in bot.campaign.items]
    per_unit = ballots // (units * len(items))
    now = iso(dt.datetime.now(dt.UTC))
    async with services.db.transaction() as tx:
        for u in range(units):
            weights = [rng.random() + 0.2 for _ in ANSWERS]
            rows = [
                (
                    f"v{u * 10_000 + k}",
                    f"u{u:03d}",
                    item,
                    categories[k % len(categories)],
                    rng.choices(ANSWERS, weights)[0],
                    now,
                )
                for k in range(per_unit)
                for item in items
            ]
            await tx.executemany(
                "INSERT INTO ballots (round, voter, unit_id, item_id, category, answer, "
                "answered_at) VALUES ((SELECT id FROM current_round), ?, ?, ?, ?, ?, ?)",
                rows,
            )
            if u % 7 == 0:
                await tx.execute(
                    "INSERT INTO findings (round, unit_id, severity, ref, text, recorded_by, "
                    "recorded_at, origin_key) "
                    "VALUES ((SELECT id FROM current_round), ?, 'general', ?, '', 1, ?, ?)",
                    (f"u{u:03d}", f"R{u}", now, f"bench:{u}"),
                )
            await tx.execute(
                "INSERT INTO daily_scores (round, unit_id, score, set_by, set_at) "
                "VALUES ((SELECT id FROM current_round), ?, ?, 1, ?)",
                (f"u{u:03d}", str(rng.randint(50, 100) / 10), now),
            )
        # Loaded in bulk, not one by one through ``record``: count them as it would have.
        await rebuild_tallies(tx)


async def main(
    units: int, ballots: int, repeat: int, target: str | None = None
) -> dict[str, float]:
    """On a new SQLite file, or in the empty PostgreSQL database ``target``."""
    with tempfile.TemporaryDirectory() as scratch:
        path = target or str(Path(scratch) / "rank.sqlite3")
        key = Path(scratch) / "ballot-key"
        print(f"[{'PostgreSQL' if target else 'SQLite'}]", flush=True)
        campaign = parse_campaign(campaign_text(units), REPO_EXAMPLE)
        bot = EvalBot(campaign, "0:bench", path, run_jobs=False, ballot_key_path=key)
        await fill(bot, units, ballots)
        services = bot.require_services()
        stored = await services.db.fetchval("SELECT COUNT(*) FROM ballots")

        async def rank_command() -> str:
            services.ranking_cache.clear()  # computed from the tallies, not the cached one
            ranking = await current_ranking(services)
            rows = snapshot(ranking, services.campaign)
            return services.texts.render(
                "results/rank",
                "zh",
                rows=rows,
                title="排名",
                at=services.clock.now(),
                head="",
                threshold="85",
                campaign=services.campaign,
                earlier="",
            )

        async def group_by() -> list[object]:
            return list(
                await services.db.fetchall(
                    "SELECT unit_id, item_id, category, answer, COUNT(*) FROM ballots "
                    "WHERE round = (SELECT id FROM current_round) "
                    "GROUP BY unit_id, item_id, category, answer"
                )
            )

        text = await rank_command()  # warm up both
        await group_by()
        ours, bare = [], []
        for _ in range(repeat):
            start = time.perf_counter()
            await rank_command()
            ours.append(time.perf_counter() - start)
            start = time.perf_counter()
            await group_by()
            bare.append(time.perf_counter() - start)
        await services.db.close()
        chat = await through_the_standin(campaign, path, key, units, repeat)
    ratios = [o / b for o, b in zip(ours, bare, strict=True)]
    figures = {
        "units": units,
        "ballots": stored,
        "rank_ms": statistics.median(ours) * 1000,
        "group_by_ms": statistics.median(bare) * 1000,
        "ratio": statistics.median(ratios),
        "lines": text.count("\n") + 1,
    }
    print(
        f"/rank over {units} units and {stored} ballots ({repeat} interleaved runs): "
        f"median {figures['rank_ms']:.0f} ms (target < 200 ms); a bare GROUP BY over the "
        f"same table {figures['group_by_ms']:.0f} ms; ratio {figures['ratio']:.2f}"
    )
    print(
        f"/rank in chat, through the stand-in: {chat['messages']:.0f} messages, every office "
        f"once: {bool(chat['complete'])}, calls refused: {chat['refused']:.0f}; median "
        f"{chat['ms']:.0f} ms from the command to the last message"
    )
    return {**figures, **{f"chat_{k}": v for k, v in chat.items()}}


async def through_the_standin(
    campaign: Campaign, path: str, key: Path, units: int, repeat: int
) -> dict[str, float]:
    """An organiser's /rank, end to end: the real bot polling the stand-in."""
    async with StandIn() as standin:
        bot = EvalBot(
            campaign,
            standin.token,
            path,
            base_url=standin.base_url,
            run_jobs=False,
            ballot_key_path=key,
        )
        await bot.start()
        try:
            organiser = standin.user(min(campaign.organisers), "纠风办")
            times: list[float] = []
            said = []
            for _ in range(repeat):
                organiser.skip_unread()
                start = time.perf_counter()
                await organiser.send("/rank")
                await organiser.replies(1, timeout=60)
                organiser.cursor -= 1
                await bot.idle()
                said = organiser.unread()
                times.append(time.perf_counter() - start)
            names = re.findall(r"第\d+街道社保所", "\n".join(m.text for m in said))
        finally:
            await bot.stop()
    return {
        "messages": len(said),
        "complete": float(sorted(names) == sorted(f"第{n}街道社保所" for n in range(units))),
        "refused": len(standin.world.refusals),
        "ms": statistics.median(times) * 1000,
    }


async def run(units: int, ballots: int, repeat: int, db: str) -> None:
    found: dict[str, dict[str, float]] = {}
    if db in ("sqlite", "both"):
        found["sqlite"] = await main(units, ballots, repeat)
    if db in ("postgresql", "both"):
        cluster, why = pgcluster.start()
        if cluster is None:
            raise SystemExit(f"--db {db} needs PostgreSQL: {why}")
        try:
            conn = await asyncpg.connect(cluster.url())
            await conn.execute("CREATE DATABASE rank")
            await conn.close()
            found["postgresql"] = await main(units, ballots, repeat, cluster.url("rank"))
        finally:
            cluster.stop()
    if len(found) == 2:
        pg, lite = found["postgresql"], found["sqlite"]
        print(
            f"PostgreSQL / SQLite: /rank {pg['rank_ms'] / lite['rank_ms']:.2f}, the bare "
            f"GROUP BY {pg['group_by_ms'] / lite['group_by_ms']:.2f}, /rank in chat "
            f"{pg['chat_ms'] / lite['chat_ms']:.2f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--ballots", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgresql", "both"),
        default="sqlite",
        help="both: SQLite, then PostgreSQL (a throwaway cluster), in the same run",
    )
    args = parser.parse_args()
    asyncio.run(run(args.units, args.ballots, args.repeat, args.db))
