"""Debian's Chromium, driven by Playwright (no browser download), for the console's
browser tests; and the screenshots they keep (EVALBOT_SCREENSHOTS=DIR: the README's)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, async_playwright

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    assert CHROMIUM, "the console's browser tests need Chromium: apt-get install chromium"
    async with async_playwright() as p:
        found = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield found
        finally:
            await found.close()


def keep(shot: Path, name: str) -> None:
    """Keep a screenshot as ``name`` in EVALBOT_SCREENSHOTS, when it is set."""
    folder = os.environ.get("EVALBOT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(folder) / name)
