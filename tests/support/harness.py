"""The bot in this process against the stand-in, with a clock the test controls: the
:class:`Harness` the flow tests' fixtures (tests/flows/conftest.py) hand out, and the
resident's opinion walked step by step."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot import ballot_key
from bot.app import EvalBot
from bot.campaign import Campaign
from bot.clock import FakeClock
from bot.db.database import is_url
from bot.services import Services
from bot.standin import SimUser, StandIn
from tests.support.backends import new_database

START = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai, phase 2
ORGANISER = 100000001  # from bot/examples/campaign.toml


@dataclass
class Harness:
    standin: StandIn
    bot: EvalBot
    clock: FakeClock
    campaign: Campaign
    db: str  # the database: a SQLite file's path or a PostgreSQL URL (tests/support/backends.py)
    key_path: Path  # the ballot key's file
    pace: dict[str, float] = field(default_factory=dict)  # the outbox's gaps (:func:`pace`)

    @property
    def backend(self) -> str:
        return "postgresql" if is_url(self.db) else "sqlite"

    @property
    def db_path(self) -> Path:
        """The SQLite file, for a test that reads it itself (skipped on PostgreSQL)."""
        if is_url(self.db):
            pytest.skip("reads the SQLite file itself")
        return Path(self.db)

    @db_path.setter
    def db_path(self, path: Path) -> None:
        self.db = str(path)
        self.key_path = ballot_key.default_path(path)

    def new_bot(self, campaign: Campaign | None = None, **options: Any) -> EvalBot:
        """A bot on the harness's database, stand-in and clock (as after a restart)."""
        values: dict[str, Any] = {"poll_timeout": 1, "run_jobs": False, **self.pace, **options}
        return EvalBot(
            campaign or self.campaign,
            self.standin.token,
            self.db,
            base_url=self.standin.base_url,
            clock=self.clock,
            ballot_key_path=self.key_path,
            **values,
        )

    async def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """What a query reads from the running bot's database, on either backend."""
        return [tuple(r) for r in await self.services.db.fetchall(sql, params)]

    @property
    def console_url(self) -> str:
        """Where the console answers (its root, ending in /console)."""
        assert self.bot.console_port is not None, "the console is not served"
        return f"http://127.0.0.1:{self.bot.console_port}/console"

    @property
    def services(self) -> Services:
        return self.bot.require_services()

    async def settle(self, timeout: float = 90.0) -> None:
        """Wait until the bot has taken every update and sent every notification, also
        those a pause (a 429's retry_after) holds back."""
        deadline = asyncio.get_running_loop().time() + timeout
        for _ in range(3):
            # confirmed by the bot's next getUpdates: stored in the inbox and submitted
            while self.standin.pending_updates():
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError("the bot did not take its updates")
                await asyncio.sleep(0.01)
            await self.bot.idle(max(0.1, deadline - asyncio.get_running_loop().time()))
            left = deadline - asyncio.get_running_loop().time()
            await self.bot.require_outbox().drained(max(0.1, left))

    def resident(self, user_id: int, name: str = "王阿姨", lang: str = "zh-hans") -> SimUser:
        return self.standin.user(user_id, name, lang=lang)

    def organiser(self) -> SimUser:
        return self.standin.user(ORGANISER, "纠风办李主任")


QUICK = {"chat_gap": 0.02, "group_gap": 0.05}


def pace(request: pytest.FixtureRequest) -> dict[str, float]:
    """The outbox's gaps between sends into one chat: Telegram's (a second a chat) for a
    test marked ``telegram_pace`` (one about pacing, or whose stand-in enforces Telegram's
    limits); otherwise a few milliseconds, since the stand-in enforces none and waiting a
    second a chat proves nothing there."""
    return {} if request.node.get_closest_marker("telegram_pace") else dict(QUICK)


async def database(backend: str, tmp_path: Path) -> tuple[str, Path]:
    """A new database on ``backend`` and where its ballot key goes."""
    if backend == "postgresql":
        return await new_database(), tmp_path / "ballot-key"
    path = tmp_path / "bot.sqlite3"
    return str(path), ballot_key.default_path(path)


STEPS = ("unit", "item", "text", "attach", "identity", "confirm")


async def reach(user: SimUser, step: str, text: str = "窗口办事效率太低，排队两个小时。") -> None:
    """Walk a resident's opinion up to ``step`` (one of :data:`STEPS`), reading each answer."""
    actions = [
        lambda: user.send("/opinion"),
        lambda: user.tap("东街街道社保所"),
        lambda: user.tap("服务质量"),
        lambda: user.send(text),
        lambda: user.tap("下一步"),
        lambda: user.tap("对单位匿名"),
    ]
    for action in actions[: STEPS.index(step) + 1]:
        await action()
        await user.reply()


async def file_one(user: SimUser, text: str = "窗口办事效率太低，排队两个小时。") -> str:
    """File an opinion from start to end; return the bot's final answer."""
    await reach(user, "confirm", text)
    await user.tap("确认提交")
    return (await user.reply()).text
