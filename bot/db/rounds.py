"""The rounds of a database (design §12): one campaign file each, the last opened current."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.clock import iso, parse_iso
from bot.db.database import CURRENT, Database, Script, Tx
from bot.db.roundfile import RoundFile


@dataclass(frozen=True)
class RoundRow:
    seq: int
    id: str
    year: int
    name: str
    campaign: str  # the campaign file's text as last run ("" if never run since 0011)
    window: str  # auto | open | closed
    opened_at: dt.datetime
    closed_at: dt.datetime | None


async def rounds(db: Database) -> list[RoundRow]:
    """Every round, in the order opened (the last is the current one)."""
    rows = await db.fetchall(
        'SELECT seq, id, year, name, campaign, "window", opened_at, closed_at FROM rounds '
        "ORDER BY seq"
    )
    return [
        RoundRow(
            int(r["seq"]),
            str(r["id"]),
            int(r["year"]),
            str(r["name"]),
            str(r["campaign"]),
            str(r["window"]),
            parse_iso(r["opened_at"]),
            parse_iso(r["closed_at"]) if r["closed_at"] else None,
        )
        for r in rows
    ]


async def window(db: Database) -> str:
    """The current round's ballot window: auto (its evaluate phase), open or closed."""
    return await db.read(window_steps())


def window_steps() -> Script[str]:
    rows = yield (f'SELECT "window" FROM rounds WHERE id = {CURRENT}', ())
    return str(rows[0][0]) if rows and rows[0][0] else "auto"


async def set_window(tx: Tx, state: str) -> None:
    await tx.execute(f'UPDATE rounds SET "window" = ? WHERE id = {CURRENT}', (state,))


async def open_round(tx: Tx, file: RoundFile, now: dt.datetime) -> int:
    """Close the current round and open ``file`` as the next; return its number."""
    await tx.execute(
        f"UPDATE rounds SET closed_at = ? WHERE id = {CURRENT} AND closed_at IS NULL", (iso(now),)
    )
    cursor = await tx.execute(
        "INSERT INTO rounds (seq, id, year, name, campaign, opened_at) "
        "VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM rounds), ?, ?, ?, ?, ?) RETURNING seq",
        (file.id, file.year, file.name, file.text, iso(now)),
    )
    row = await cursor.fetchone()
    await cursor.close()
    assert row is not None
    # the window's bookkeeping starts again (bot/ballots/evaluation.py)
    await tx.execute("DELETE FROM meta WHERE key IN ('ballots_sent', 'window_openings')")
    return int(row[0])


async def end_team_roles(tx: Tx, units: list[str] | None) -> int:
    """Staff and supervisors of these offices (None: of every office, and supervisors of
    all) lose their roles; return how many roles ended."""
    if units is None:
        cursor = await tx.execute("DELETE FROM roles WHERE role IN ('staff', 'supervisor')")
    else:
        marks = ",".join("?" * len(units))
        cursor = await tx.execute(
            f"DELETE FROM roles WHERE role IN ('staff', 'supervisor') AND unit_id IN ({marks})",
            units,
        )
    return int(cursor.rowcount or 0)


@dataclass(frozen=True)
class Carried:
    """What a new round starts with from the ones before."""

    staff: int
    supervisors: int
    subscribers: int
    open_cases: int


async def carried(db: Database) -> Carried:
    row = await db.fetchone(
        "SELECT (SELECT COUNT(DISTINCT user_id) FROM roles WHERE role = 'staff') AS staff, "
        "(SELECT COUNT(DISTINCT user_id) FROM roles WHERE role = 'supervisor') AS supervisors, "
        "(SELECT COUNT(*) FROM subscribers) AS subscribers, "
        "(SELECT COUNT(*) FROM cases WHERE state != 'closed') AS open_cases"
    )
    assert row is not None
    return Carried(*(int(v) for v in row))


async def live_cards(db: Database) -> int:
    """The current round's ballot cards still out with buttons."""
    value = await db.fetchval(
        f"SELECT COUNT(*) FROM ballot_cards WHERE round = {CURRENT} "
        "AND message_id IS NOT NULL AND final = 0"
    )
    return int(value or 0)
