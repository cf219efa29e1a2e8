"""People who have talked to the bot: names, language, where they came from, and the last
update applied for them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.clock import iso
from bot.db.database import Database, Row, Script, Tx, Writer
from bot.db.flows import FLOW_COLUMNS, Flow, read_flow


@dataclass(frozen=True)
class User:
    user_id: int
    first_name: str
    last_name: str
    username: str
    lang: str
    source: str | None
    blocked: bool
    last_update_id: int = 0

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class Profile:
    """What Telegram says of a person with each update."""

    user_id: int
    first_name: str
    last_name: str
    username: str
    lang: str


@dataclass(frozen=True)
class Seen:
    """A person as an update finds them: who they are and the flow they are in."""

    user: User | None
    flow: Flow | None

    def is_replay(self, update_id: int) -> bool:
        """Whether the update was applied already (a replay after a restart)."""
        return self.user is not None and update_id <= self.user.last_update_id

    def differs(self, profile: Profile) -> bool:
        """Whether the stored record of the person is missing or out of date."""
        u = self.user
        return (
            u is None
            or u.blocked
            or (
                (u.first_name, u.last_name, u.username, u.lang)
                != (profile.first_name, profile.last_name, profile.username, profile.lang)
            )
        )


def _user(row: Row) -> User:
    return User(
        row["user_id"],
        row["first_name"],
        row["last_name"],
        row["username"],
        row["lang"],
        row["source"],
        row["blocked_at"] is not None,
        row["last_update_id"],
    )


USER_COLUMNS = (
    "u.user_id, u.first_name, u.last_name, u.username, u.lang, u.source, u.blocked_at, "
    "u.last_update_id"
)


async def seen(db: Database, user_id: int) -> Seen:
    """The person and their flow in progress, in one read."""
    return await db.read(seen_steps(user_id))


def seen_steps(user_id: int) -> Script[Seen]:
    flow_columns = ", ".join(f"d.{c}" for c in FLOW_COLUMNS.split(", "))
    rows = yield (
        f"SELECT {USER_COLUMNS}, {flow_columns} FROM (SELECT CAST(? AS BIGINT) AS user_id) k "
        "LEFT JOIN users u ON u.user_id = k.user_id "
        "LEFT JOIN drafts d ON d.user_id = k.user_id",
        (user_id,),
    )
    if not rows:
        return Seen(None, None)
    row = rows[0]
    user = _user(row) if row["user_id"] is not None else None
    flow = read_flow(user_id, row) if row["flow"] is not None else None
    return Seen(user, flow)


async def record_user(db: Database, profile: Profile, now: dt.datetime) -> None:
    """Create or refresh a person's record; a message from them means they no longer
    block the bot."""
    async with db.single() as tx:
        await save_user(tx, profile, now)


async def save_user(tx: Writer, profile: Profile, now: dt.datetime) -> None:
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
        (
            profile.user_id,
            profile.first_name,
            profile.last_name,
            profile.username,
            profile.lang,
            stamp,
            stamp,
        ),
    )


async def mark_applied(tx: Writer, user_id: int, update_id: int) -> None:
    """Record that ``update_id`` was applied for the person (in the transaction of what it
    changed): a replay of it, or of anything before it, is not applied again."""
    await tx.execute(
        "UPDATE users SET last_update_id = ? WHERE user_id = ? AND last_update_id < ?",
        (update_id, user_id, update_id),
    )


async def language_of(tx: Tx, user_id: int) -> str | None:
    """The language last seen for a person, if they ever wrote to the bot."""
    rows = list(await tx.execute_fetchall("SELECT lang FROM users WHERE user_id = ?", (user_id,)))
    return str(rows[0][0]) if rows else None


async def record_source(tx: Tx, user_id: int, source: str, now: dt.datetime) -> None:
    """Note the poster or channel that brought a user (counted once per user and source)."""
    await tx.execute("UPDATE users SET source = ? WHERE user_id = ?", (source, user_id))
    await tx.execute(
        "INSERT INTO user_sources (user_id, source, first_at) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (user_id, source, iso(now)),
    )


async def get_user(db: Database, user_id: int) -> User | None:
    return await db.read(get_user_steps(user_id))


def get_user_steps(user_id: int) -> Script[User | None]:
    rows = yield (f"SELECT {USER_COLUMNS} FROM users u WHERE u.user_id = ?", (user_id,))
    return _user(rows[0]) if rows else None


async def known(db: Database, user_ids: Sequence[int]) -> list[int]:
    """Which of these accounts have written to the bot (have a chat it can reach)."""
    if not user_ids:
        return []
    rows = await db.fetchall(
        f"SELECT user_id FROM users WHERE user_id IN ({','.join('?' * len(user_ids))}) "
        "ORDER BY user_id",
        list(user_ids),
    )
    return [int(r["user_id"]) for r in rows]


async def names(db: Database, user_ids: Sequence[int]) -> dict[int, str]:
    """Each known person's name as Telegram gave it (first and last)."""
    if not user_ids:
        return {}
    marks = ", ".join("?" for _ in user_ids)
    rows = await db.fetchall(
        f"SELECT user_id, first_name, last_name FROM users WHERE user_id IN ({marks})",
        tuple(user_ids),
    )
    return {int(r[0]): " ".join(p for p in (r[1], r[2]) if p) for r in rows}


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
