"""The evalbot command as an operator uses it: check, run refusing a bad file, backup."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.db import users as user_store
from bot.settings import REPO_EXAMPLE
from tests.support.harness import Harness

EVALBOT = [sys.executable, "-m", "bot.cli"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*EVALBOT, *args], capture_output=True, text=True, timeout=60, env=env, check=False
    )


def test_check_accepts_the_example() -> None:
    done = run("check", str(REPO_EXAMPLE))
    assert done.returncode == 0, done.stderr
    assert "OK" in done.stdout and "3 units" in done.stdout


def test_check_and_run_list_every_problem_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        REPO_EXAMPLE.read_text(encoding="utf-8")
        .replace('timezone = "Asia/Shanghai"', 'timezone = "Nowhere"')
        .replace("threshold = 85", "threshold = -1"),
        encoding="utf-8",
    )
    done = run("check", str(bad))
    assert done.returncode == 2
    assert f"{bad}: campaign.timezone:" in done.stderr
    assert f"{bad}: scoring.threshold: must not be negative" in done.stderr
    env = {
        "PATH": "/usr/bin:/bin",
        "TELEGRAM_BOT_TOKEN": "1:x",
        "EVALBOT_DB": str(tmp_path / "x.sqlite3"),
        "EVALBOT_CAMPAIGN": str(bad),
    }
    started = run("run", env=env)
    assert started.returncode == 2
    assert "nothing was started" in started.stderr and "campaign.timezone" in started.stderr
    assert not (tmp_path / "x.sqlite3").exists()


def test_run_without_a_token_says_what_to_do(tmp_path: Path) -> None:
    done = run("run", env={"PATH": "/usr/bin:/bin", "EVALBOT_DB": str(tmp_path / "x.db")})
    assert done.returncode == 2 and "TELEGRAM_BOT_TOKEN is not set" in done.stderr


@pytest.mark.on_postgresql
async def test_a_backup_taken_while_the_bot_runs(harness: Harness, tmp_path: Path) -> None:
    resident = harness.resident(2301)
    await resident.send("/start src-jw-dongjie")
    await resident.reply()
    await harness.settle()
    target = tmp_path / "copy.sqlite3"
    done = run("backup", str(target), "--db", str(harness.db_path))
    assert done.returncode == 0, done.stderr
    assert "integrity: ok" in done.stdout
    conn = sqlite3.connect(target)
    try:
        assert conn.execute("SELECT source FROM users WHERE user_id = 2301").fetchone() == (
            "jw-dongjie",
        )
    finally:
        conn.close()
    assert run("backup", str(target), "--db", str(harness.db_path)).returncode == 2  # exists


async def test_a_poster_link_is_counted_and_an_unknown_one_explained(harness: Harness) -> None:
    first = harness.resident(2302)
    await first.send("/start src-hall-xijie")
    assert "您打开的链接无效" not in (await first.reply()).text
    second = harness.resident(2303)
    await second.send("/start src-forged")
    assert "您打开的链接无效或已过期" in (await second.reply()).text
    await harness.settle()
    assert await user_store.count_by_source(harness.services.db) == {"hall-xijie": 1}
