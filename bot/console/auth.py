"""Who is asking: Telegram's signed Mini App init data, or a session opened by a /console link.

Init data is checked as Telegram documents for Mini Apps: the data-check-string (every
field but ``hash``, sorted, ``key=value`` joined by newlines) signed with HMAC-SHA256 under
the key HMAC-SHA256("WebAppData", bot token). Data older than the configured age is
refused. A link is a random token, single use, valid ten minutes, bound to the account
that asked; opening it starts an eight-hour session whose cookie holds another random id.
Only SHA-256 hashes of tokens and session ids are stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from urllib.parse import parse_qsl, urlencode

from bot.db import console as store
from bot.services import Services

LINK_LIFE = dt.timedelta(minutes=10)
SESSION_LIFE = dt.timedelta(hours=8)
COOKIE = "evalbot_console"


def _secret(token: str) -> bytes:
    return hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()


def _check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "hash")


def sign_init_data(fields: dict[str, str], token: str) -> str:
    """Init data as Telegram signs it (for the demo and the tests)."""
    digest = hmac.new(_secret(token), _check_string(fields).encode(), hashlib.sha256)
    return urlencode({**fields, "hash": digest.hexdigest()})


def init_data_user(
    init_data: str, token: str, now: dt.datetime, max_age: dt.timedelta
) -> tuple[int, str | None] | None:
    """The account (id, language) that signed init data holds, or None when the data is
    forged, signed for another bot, too old or malformed."""
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    fields = dict(pairs)
    if len(fields) != len(pairs) or "hash" not in fields:
        return None  # a field twice, or no signature
    expected = hmac.new(_secret(token), _check_string(fields).encode(), hashlib.sha256)
    if not hmac.compare_digest(expected.hexdigest(), fields["hash"]):
        return None
    try:
        signed = dt.datetime.fromtimestamp(int(fields["auth_date"]), dt.UTC)
        user = json.loads(fields["user"])
        user_id = int(user["id"])
    except (KeyError, ValueError, TypeError, OverflowError):
        return None
    if not (now - max_age <= signed <= now + dt.timedelta(minutes=5)):
        return None
    language = user.get("language_code")
    return user_id, language if isinstance(language, str) else None


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def new_link(services: Services, user_id: int) -> str:
    """A single-use login token for ``user_id``, valid ten minutes."""
    token = secrets.token_urlsafe(24)
    async with services.db.transaction() as tx:
        await store.add_link(tx, digest(token), user_id, services.clock.now() + LINK_LIFE)
    return token


async def open_session(services: Services, token: str) -> tuple[str, int] | None:
    """Spend a link and start a session: (the cookie's value, the account), or None."""
    now = services.clock.now()
    session = secrets.token_urlsafe(32)
    async with services.db.transaction() as tx:
        user_id = await store.use_link(tx, digest(token), now)
        if user_id is None:
            return None
        csrf = secrets.token_urlsafe(24)
        await store.add_session(tx, digest(session), user_id, csrf, now + SESSION_LIFE, now)
    return session, user_id


async def session_user(services: Services, cookie: str) -> tuple[int, str] | None:
    """The account and CSRF token of a live session."""
    return await store.get_session(services.db, digest(cookie), services.clock.now())


async def end_session(services: Services, cookie: str) -> None:
    async with services.db.transaction() as tx:
        await store.end_session(tx, digest(cookie))
