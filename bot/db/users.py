"""People who have talked to the bot: names, language, where they came from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.clock import iso
from bot.db.database import Database, Row, Tx


@dataclass(frozen=True)
class User:
    user_id: int
    first_name: str
    last_name: str
    username: str
    lang: str
    source: str | None
    blocked: bool

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def _user(row: Row) -> User:
    return User(
        row["user_id"],
        row["first_name"],
        row["last_name"],
        row["username"],
        row["lang"],
        row["source"],
        row["blocked_at"] is not None,
    )


async def save_user(
    tx: Tx,
    user_id: int,
    first_name: str,
    last_name: str,
    username: str,
    lang: str,
    now: dt.datetime,
) -> None:
    """Create or refresh a user's profile; a message from them means they no longer block us."""
    stamp = iso(now)
    await tx.execute(
        """
        INSERT INTO users (user_id, first_name, last_name, username, lang, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (user_id) DO UPDATE SET
            first_name = excluded.first_name, last_name = excluded.last_name,
            username = excluded.username, lang = excluded.lang,
            blocked_at = NULL, updated_at = excluded.updated_at
        """,
        (user_id, first_name, last_name, username, lang, stamp, stamp),
    )


async def record_source(tx: Tx, user_id: int, source: str, now: dt.datetime) -> None:
    """Note the poster or channel that brought a user (counted once per user and source)."""
    await tx.execute("UPDATE users SET source = ? WHERE user_id = ?", (source, user_id))
    await tx.execute(
        "INSERT INTO user_sources (user_id, source, first_at) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (user_id, source, iso(now)),
    )


async def get_user(db: Database, user_id: int) -> User | None:
    row = await db.fetchone("SELECT * FROM users WHERE user_id = ?", (user_id,))
    return _user(row) if row else None


async def mark_blocked(db: Database, user_id: int, now: dt.datetime) -> None:
    """Telegram said this user blocked the bot: stop writing to them until they return."""
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE users SET blocked_at = ? WHERE user_id = ? AND blocked_at IS NULL",
            (iso(now), user_id),
        )


async def count_by_source(db: Database) -> dict[str, int]:
    rows = await db.fetchall(
        "SELECT source, COUNT(*) AS n FROM user_sources GROUP BY source ORDER BY source"
    )
    return {r["source"]: r["n"] for r in rows}
