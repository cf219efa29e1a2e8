"""The console's queries (design §11): figures per office, the filtered case list, links and
sessions. Only hashes of links and session ids are stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.clock import iso, parse_iso
from bot.db import search
from bot.db.cases import CASE_COLUMNS, Case, _case, overdue_sql
from bot.db.database import Database, Tx


@dataclass(frozen=True)
class OfficeCounts:
    """An office's cases, counted as the console's rates need (bot/console/views.py defines
    them)."""

    unit_id: str
    received: int = 0
    respond_judged: int = 0  # verification started, or its deadline passed
    responded_on_time: int = 0
    finish_judged: int = 0  # finished, or open and overdue
    finished_on_time: int = 0
    overdue: int = 0
    rated: int = 0
    satisfied: int = 0  # 满意 or 基本满意
    reopened: int = 0
    closed: int = 0
    days_to_close: float = 0.0  # the sum over closed cases


OVERDUE = overdue_sql(":now")
OFFICE_SQL = f"""
SELECT unit_id,
       COUNT(*) AS received,
       COUNT(*) FILTER (WHERE responded_at IS NOT NULL OR (state = 'filed' AND {OVERDUE}))
           AS respond_judged,
       COUNT(*) FILTER (WHERE responded_at IS NOT NULL AND responded_late = 0)
           AS responded_on_time,
       COUNT(*) FILTER (WHERE finished_at IS NOT NULL OR {OVERDUE})
           AS finish_judged,
       COUNT(*) FILTER (WHERE finished_at IS NOT NULL AND finished_late = 0) AS finished_on_time,
       COUNT(*) FILTER (WHERE {OVERDUE}) AS overdue,
       COUNT(*) FILTER (WHERE rating IS NOT NULL) AS rated,
       COUNT(*) FILTER (WHERE rating IN ('satisfied', 'basic')) AS satisfied,
       COUNT(*) FILTER (WHERE reopened > 0) AS reopened,
       COUNT(*) FILTER (WHERE closed_at IS NOT NULL) AS closed,
       COALESCE(SUM(julianday(closed_at) - julianday(filed_at)), 0.0) AS days_to_close
FROM cases GROUP BY unit_id
"""
# (julianday is SQLite's; the PostgreSQL schema defines one that agrees with it)


async def office_counts(db: Database, now: dt.datetime) -> dict[str, OfficeCounts]:
    rows = await db.fetchall(OFFICE_SQL, {"now": iso(now)})
    found = {}
    for row in rows:
        figures: dict[str, Any] = {k: v or 0 for k, v in dict(row).items() if k != "unit_id"}
        found[row["unit_id"]] = OfficeCounts(row["unit_id"], **figures)
    return found


async def states_in(db: Database, units: Sequence[str] | None) -> dict[str, int]:
    """How many cases of these offices (None: all) are in each state."""
    if units is None:
        rows = await db.fetchall("SELECT state, COUNT(*) AS n FROM cases GROUP BY state")
        return {r["state"]: int(r["n"]) for r in rows}
    if not units:
        return {}
    rows = await db.fetchall(
        f"SELECT state, COUNT(*) AS n FROM cases WHERE unit_id IN ({','.join('?' * len(units))}) "
        "GROUP BY state",
        list(units),
    )
    return {r["state"]: int(r["n"]) for r in rows}


@dataclass(frozen=True)
class CaseFilter:
    """What the case list shows; None: no filter on that."""

    units: Sequence[str] | None  # the viewer's scope narrowed by the office filter; None: all
    states: Sequence[str] | None = None
    item: str | None = None  # "" for "other"
    channel: str | None = None
    overdue: bool = False
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    words: tuple[str, ...] | None = None  # every one must be in the text (bot/db/search.py)
    sort: str = "new"  # new | old | due | updated


SORTS = {
    "new": "c.id DESC",
    "old": "c.id ASC",
    "due": "c.due_at IS NULL, c.due_at ASC, c.id DESC",
    "updated": "c.updated_at DESC, c.id DESC",
}


def _where(f: CaseFilter, now: dt.datetime, dialect: str) -> tuple[str, list[Any]]:
    where: list[str] = ["TRUE"]
    params: list[Any] = []
    if f.units is not None:
        where.append(f"c.unit_id IN ({','.join('?' * len(f.units))})")
        params += list(f.units)
    if f.states:
        where.append(f"c.state IN ({','.join('?' * len(f.states))})")
        params += list(f.states)
    if f.item == "":
        where.append("c.item_id IS NULL")
    elif f.item is not None:
        where.append("c.item_id = ?")
        params.append(f.item)
    if f.channel is not None:
        where.append("c.channel = ?")
        params.append(f.channel)
    if f.overdue:
        where.append(overdue_sql("?", "c"))
        params.append(iso(now))
    if f.since is not None:
        where.append("c.filed_at >= ?")
        params.append(iso(f.since))
    if f.until is not None:
        where.append("c.filed_at < ?")
        params.append(iso(f.until))
    if f.words:
        if dialect == "postgresql":  # the words as an array, in a GIN index
            where.append(
                "c.id IN (SELECT rowid FROM case_words WHERE string_to_array(words, ' ') @> ?)"
            )
            params.append(list(f.words))
        else:  # an FTS5 table
            where.append("c.id IN (SELECT rowid FROM case_words WHERE case_words MATCH ?)")
            params.append(search.match_expression(f.words))
    return " AND ".join(where), params


async def find_cases(
    db: Database, f: CaseFilter, now: dt.datetime, limit: int, offset: int, count: bool = True
) -> tuple[list[Case], int]:
    """One page of the cases the filter selects, and how many it selects in all (0 when
    not ``count``)."""
    if f.units is not None and not f.units:
        return [], 0
    clause, params = _where(f, now, db.dialect)
    # overdue cases all have a deadline: ordered by it, they read the deadline's index
    order = "c.due_at, c.id" if f.overdue and f.sort == "due" else SORTS[f.sort]
    total = (
        int(await db.fetchval(f"SELECT COUNT(*) FROM cases c WHERE {clause}", params) or 0)
        if count
        else 0
    )
    rows = await db.fetchall(
        f"SELECT {CASE_COLUMNS} FROM cases c WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?",
        (*params, limit, offset),
    )
    return [_case(r) for r in rows], total


async def attachments(db: Database, case_id: int) -> list[tuple[int, str, str, str | None]]:
    """(position, kind, file_id, file name) of a case's attachments."""
    rows = await db.fetchall(
        "SELECT position, kind, file_id, file_name FROM case_attachments WHERE case_id = ? "
        "ORDER BY position",
        (case_id,),
    )
    return [(r["position"], r["kind"], r["file_id"], r["file_name"]) for r in rows]


# -- links and sessions ------------------------------------------------------------------------


async def add_link(tx: Tx, token_hash: str, user_id: int, expires: dt.datetime) -> None:
    await tx.execute(
        "INSERT INTO console_links (token_hash, user_id, expires_at) VALUES (?, ?, ?)",
        (token_hash, user_id, iso(expires)),
    )


async def use_link(tx: Tx, token_hash: str, now: dt.datetime) -> int | None:
    """Spend a link: its account, or None when it is unknown, used or expired."""
    cursor = await tx.execute(
        "UPDATE console_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL "
        "AND expires_at > ? RETURNING user_id",
        (iso(now), token_hash, iso(now)),
    )
    row = await cursor.fetchone()
    await cursor.close()
    return int(row[0]) if row else None


async def add_session(
    tx: Tx, id_hash: str, user_id: int, csrf: str, expires: dt.datetime, now: dt.datetime
) -> None:
    await tx.execute("DELETE FROM console_sessions WHERE expires_at <= ?", (iso(now),))
    await tx.execute("DELETE FROM console_links WHERE expires_at <= ?", (iso(now),))
    await tx.execute(
        "INSERT INTO console_sessions (id_hash, user_id, csrf, expires_at) VALUES (?, ?, ?, ?)",
        (id_hash, user_id, csrf, iso(expires)),
    )


async def get_session(db: Database, id_hash: str, now: dt.datetime) -> tuple[int, str] | None:
    row = await db.fetchone(
        "SELECT user_id, csrf, expires_at FROM console_sessions WHERE id_hash = ?", (id_hash,)
    )
    if row is None or parse_iso(row["expires_at"]) <= now:
        return None
    return int(row["user_id"]), str(row["csrf"])


async def end_session(tx: Tx, id_hash: str) -> None:
    await tx.execute("DELETE FROM console_sessions WHERE id_hash = ?", (id_hash,))
