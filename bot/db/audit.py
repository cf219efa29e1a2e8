"""What organisers did (design §11, the audit page): one row per action, from chat, the
console or the command line, in the same transaction as the action itself. Case moves are
kept in ``case_events`` and read here beside the rest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.clock import iso, parse_iso
from bot.db.database import CURRENT, Database, Writer


@dataclass(frozen=True)
class Entry:
    at: dt.datetime
    user_id: int
    via: str  # chat | console | cli
    action: str  # daily, proposal, finding, window, invite, revoke, publish, move
    subject: str  # an office's id, a case's number, a reference
    detail: str  # a score, a state, a move's name


async def record(
    tx: Writer,
    user_id: int,
    via: str,
    action: str,
    now: dt.datetime,
    subject: str = "",
    detail: str = "",
) -> None:
    await tx.execute(
        "INSERT INTO audit (round, at, user_id, via, action, subject, detail) "
        f"VALUES (COALESCE({CURRENT}, ''), ?, ?, ?, ?, ?, ?)",
        (iso(now), user_id, via, action, subject, detail[:200]),
    )


async def entries(db: Database, limit: int = 200, offset: int = 0) -> list[Entry]:
    """The newest first: every recorded action, and every move an organiser made on a case
    (from the console when its origin says so)."""
    rows = await db.fetchall(
        "SELECT at, user_id, via, action, subject, detail FROM audit "
        "UNION ALL SELECT at, actor_id, "
        "CASE WHEN origin LIKE 'web:%' THEN 'console' ELSE 'chat' END, 'move', "
        "CAST(case_id AS TEXT), move FROM case_events "
        "WHERE actor_role = 'organiser' AND actor_id IS NOT NULL "
        "ORDER BY at DESC LIMIT ? OFFSET ?",
        (limit, offset),
    )
    return [Entry(parse_iso(r[0]), int(r[1]), r[2], r[3], r[4], r[5]) for r in rows]
