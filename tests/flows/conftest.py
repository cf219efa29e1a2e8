"""The real bot against the stand-in, over loopback HTTP, with a clock the test controls
(tests/support/harness.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import pytest

from bot.app import EvalBot
from bot.campaign import Campaign, load_campaign
from bot.clock import FakeClock
from bot.console.server import ConsoleConfig
from bot.settings import REPO_EXAMPLE
from bot.standin import StandIn
from bot.standin.process import free_port
from tests.support.harness import START, Harness, database, pace


@pytest.fixture
def campaign() -> Campaign:
    return load_campaign(REPO_EXAMPLE)


@pytest.fixture
async def harness(
    tmp_path: Path, campaign: Campaign, backend: str, request: pytest.FixtureRequest
) -> AsyncIterator[Harness]:
    """The bot on a new database, on each backend (tests/conftest.py)."""
    async with StandIn() as standin:
        clock = FakeClock(START)
        db, key_path = await database(backend, tmp_path)
        harness = Harness(
            standin, cast(EvalBot, None), clock, campaign, db, key_path, pace(request)
        )
        harness.bot = harness.new_bot()
        await harness.bot.start()
        try:
            yield harness
        finally:
            await harness.bot.stop()  # the bot of the last restart


@pytest.fixture
async def console_harness(
    tmp_path: Path, campaign: Campaign, backend: str, request: pytest.FixtureRequest
) -> AsyncIterator[Harness]:
    """The bot with its web console on a loopback port (``harness.console_url``)."""
    async with StandIn() as standin:
        clock = FakeClock(START)
        db, key_path = await database(backend, tmp_path)
        port = free_port()
        url = f"http://127.0.0.1:{port}/console/"
        harness = Harness(
            standin, cast(EvalBot, None), clock, campaign, db, key_path, pace(request)
        )
        harness.bot = harness.new_bot(
            console=ConsoleConfig(url), console_listen=("127.0.0.1", port)
        )
        await harness.bot.start()
        try:
            yield harness
        finally:
            await harness.bot.stop()
