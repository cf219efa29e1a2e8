"""The floor for a Python bot on this machine (issue 24): no framework at all.

aiohttp long polling of the Bot API; each batch of presses that ``getUpdates`` returns is
written in one SQLite transaction (WAL, one row per evaluator, office and item), then every
pop-up of the batch is answered concurrently, while the next batch is fetched (as evalbot's
intake does not wait for its pop-ups either). Nothing else: no card, no log, no chain, no
tallies. Whatever a real bot adds to a press is measured against this."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp


class FloorBot:
    def __init__(self, base_url: str, token: str, db_path: Path) -> None:
        self.api = f"{base_url}{token}/"
        self.db = sqlite3.connect(db_path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS ballots (voter INTEGER, unit TEXT, item TEXT, "
            "answer INTEGER, PRIMARY KEY (voter, unit, item))"
        )
        self.stopping = asyncio.Event()
        self.answering: set[asyncio.Future[Any]] = set()

    async def call(self, http: aiohttp.ClientSession, method: str, **params: Any) -> Any:
        async with http.post(self.api + method, json=params) as r:
            return (await r.json())["result"]

    async def run(self) -> None:
        offset = 0
        async with aiohttp.ClientSession() as http:
            while not self.stopping.is_set():
                updates = await self.call(http, "getUpdates", offset=offset, timeout=1)
                if not updates:
                    continue
                offset = updates[-1]["update_id"] + 1
                presses = [u["callback_query"] for u in updates if "callback_query" in u]
                rows = []
                for q in presses:
                    _, unit, item, answer = q["data"].split(":")
                    rows.append((q["from"]["id"], unit, item, int(answer)))
                self.db.execute("BEGIN")
                self.db.executemany(
                    "INSERT INTO ballots VALUES (?, ?, ?, ?) ON CONFLICT (voter, unit, item) "
                    "DO UPDATE SET answer = excluded.answer",
                    rows,
                )
                self.db.execute("COMMIT")
                # stored, so confirmed: the pop-ups go while the next batch is fetched
                answering = asyncio.gather(
                    *(self.call(http, "answerCallbackQuery", callback_query_id=q["id"],
                                text="已记录") for q in presses)
                )  # fmt: skip
                self.answering.add(answering)
                answering.add_done_callback(self.answering.discard)
            await asyncio.gather(*self.answering)

    @staticmethod
    def stored(db_path: Path) -> int:
        with contextlib.closing(sqlite3.connect(db_path)) as db:
            return int(db.execute("SELECT COUNT(*) FROM ballots").fetchone()[0])

    async def stop(self, task: asyncio.Task[None]) -> None:
        self.stopping.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
        self.db.close()


async def main(base_url: str, token: str, db_path: str) -> None:
    """The floor in its own process (as ``evalbot run`` is): until SIGTERM."""
    import signal

    floor = FloorBot(base_url, token, Path(db_path))
    task = asyncio.create_task(floor.run())
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, floor.stopping.set)
    await floor.stopping.wait()
    await floor.stop(task)


if __name__ == "__main__":
    import sys

    asyncio.run(main(*sys.argv[1:4]))
