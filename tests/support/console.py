"""Signing in to the web console as the tests do: Telegram's signed init data (as a Mini
App), or the one-time link /console answers with (as an office browser)."""

from __future__ import annotations

import datetime as dt
import json
import re

from bot.console import auth
from bot.standin import SimUser
from tests.support.harness import Harness


def init_data(harness: Harness, user: SimUser, *, token: str | None = None, age: float = 0) -> str:
    signed = harness.clock.now() - dt.timedelta(seconds=age)
    fields = {
        "query_id": "AAH-test",
        "user": json.dumps(
            {"id": user.id, "first_name": user.first_name, "language_code": "zh-hans"},
            ensure_ascii=False,
        ),
        "auth_date": str(int(signed.timestamp())),
    }
    return auth.sign_init_data(fields, token or harness.standin.token)


async def link_of(harness: Harness, user: SimUser) -> str:
    user.skip_unread()
    await user.send("/console")
    text = (await user.reply()).html
    found = re.search(r'href="([^"]+/login\?t=[^"]+)"', text)
    assert found, text
    return found.group(1).replace("&amp;", "&")
