"""Several instances on one PostgreSQL database (design §13), as separate `evalbot run`
processes against the stand-in, one of them killed with SIGKILL."""

from __future__ import annotations

import time
from pathlib import Path

import asyncpg

from bench.harness import BotProcess, resident_files, wait_for
from bot.standin import StandIn
from tests.conftest import new_database

RUN = ["-m", "bot.cli", "run"]


async def test_the_standby_takes_over_polling_within_15_seconds(tmp_path: Path) -> None:
    url = await new_database()
    env = {"EVALBOT_BALLOT_KEY": str(tmp_path / "ballot-key")}
    async with StandIn() as standin:
        first = BotProcess(standin, RUN, db=url, env=env, log=tmp_path / "first.log")
        second = BotProcess(standin, RUN, db=url, env=env, log=tmp_path / "second.log")
        await first.start()
        try:
            await second.start(standby=True)  # the lease is taken: it waits
            before = standin.user(5101, "王阿姨")
            await resident_files(before, 1, timeout=60)
            polls = standin.world.calls.get("getUpdates", 0)

            await first.kill()
            killed = time.monotonic()
            during = standin.user(5102, "李大爷")  # writes while nobody polls
            await during.send("/start")
            await wait_for(during, lambda m: "政风行风评议" in m.text, timeout=30)
            took = time.monotonic() - killed
            assert took < 15.0, f"the standby answered {took:.1f}s after the poller died"
            assert standin.world.calls.get("getUpdates", 0) > polls
            assert b"polling (instance" in second.log.read_bytes()

            await resident_files(during, 2, timeout=60)  # the new poller serves on
            before.skip_unread()
            await before.send("/status 1")
            status = await wait_for(before, lambda m: "第 1 号" in m.text, timeout=30)
            assert "东街街道社保所" in status.text  # filed through the first, kept
            assert not standin.pending_updates()  # nothing left unread at Telegram
        finally:
            await first.stop()
            await second.stop()
    conn = await asyncpg.connect(url)
    try:  # one case each, every update processed, none twice
        assert await conn.fetchval("SELECT COUNT(*) FROM cases") == 2
        assert await conn.fetchval("SELECT COUNT(*) FROM inbox WHERE done_at IS NULL") == 0
    finally:
        await conn.close()
