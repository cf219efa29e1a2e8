"""Cases (opinions and complaints), their attachments and their history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from bot.clock import iso, parse_iso
from bot.db import search
from bot.db.database import CURRENT, Database, Row, Tx


@dataclass(frozen=True)
class Attachment:
    kind: str  # photo | document
    file_id: str
    file_unique_id: str
    file_name: str | None = None


@dataclass(frozen=True)
class NewCase:
    """What a resident (or an organiser recording offline intake) files."""

    unit_id: str
    item_id: str | None  # None: "other"
    text: str
    channel: str
    source: str | None
    author_id: int | None
    anonymous: bool
    author_name: str | None
    lang: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Case:
    id: int
    unit_id: str
    item_id: str | None
    text: str
    channel: str
    source: str | None
    author_id: int | None
    anonymous: bool
    author_name: str | None
    lang: str
    state: str
    filed_at: dt.datetime
    updated_at: dt.datetime
    attachment_count: int = 0
    outcome: str | None = None
    due_at: dt.datetime | None = None
    rating: str | None = None
    round: str = ""  # the round it was filed in (its id)

    def overdue(self, now: dt.datetime) -> bool:
        """Overdue (design §11): not closed, and its stage's deadline has passed. The one
        definition: :func:`overdue_sql` says the same to the database."""
        return self.state != "closed" and self.due_at is not None and self.due_at < now


def overdue_sql(now: str, table: str = "") -> str:
    """:meth:`Case.overdue` as an SQL condition; ``now`` is the parameter (``?`` or
    ``:now``), ``table`` the cases' alias if the query gives one."""
    c = f"{table}." if table else ""
    return f"({c}state != 'closed' AND {c}due_at IS NOT NULL AND {c}due_at < {now})"


@dataclass(frozen=True)
class CaseEvent:
    at: dt.datetime
    actor_id: int | None
    actor_role: str
    from_state: str | None
    to_state: str
    reason: str
    move: str = "file"
    plan: str | None = None
    due_at: dt.datetime | None = None


CASE_COLUMNS = (
    "c.id, c.unit_id, c.item_id, c.text, c.channel, c.source, c.author_id, c.anonymous, "
    "c.author_name, c.lang, c.state, c.filed_at, c.updated_at, c.outcome, c.due_at, c.rating, "
    "c.round, "
    "(SELECT COUNT(*) FROM case_attachments a WHERE a.case_id = c.id) AS attachment_count"
)


def _case(row: Row) -> Case:
    return Case(
        id=row["id"],
        unit_id=row["unit_id"],
        item_id=row["item_id"],
        text=row["text"],
        channel=row["channel"],
        source=row["source"],
        author_id=row["author_id"],
        anonymous=bool(row["anonymous"]),
        author_name=row["author_name"],
        lang=row["lang"],
        state=row["state"],
        filed_at=parse_iso(row["filed_at"]),
        updated_at=parse_iso(row["updated_at"]),
        attachment_count=row["attachment_count"],
        outcome=row["outcome"],
        due_at=parse_iso(row["due_at"]) if row["due_at"] else None,
        rating=row["rating"],
        round=row["round"],
    )


async def file_case(
    tx: Tx,
    new: NewCase,
    origin_key: str,
    state: str,
    actor: tuple[int | None, str],
    now: dt.datetime,
    due: dt.datetime | None = None,
) -> tuple[int, bool]:
    """File a case once per ``origin_key``; return its id and whether it is new.
    ``actor`` is who filed it (id and role): the resident, or an organiser recording."""
    stamp = iso(now)
    # The number is the next after the highest, taken inside the serialised write: no gaps
    # (PostgreSQL's identity sequence would skip one at every replay and every rollback;
    # SQLite's INTEGER PRIMARY KEY does the same as this).
    cursor = await tx.execute(
        """
        INSERT INTO cases (id, unit_id, item_id, text, channel, source, author_id, anonymous,
                           author_name, lang, state, filed_at, updated_at, origin_key, due_at,
                           round)
        VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM cases),
                ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT id FROM current_round))
        ON CONFLICT (origin_key) DO NOTHING
        RETURNING id
        """,
        (
            new.unit_id,
            new.item_id,
            new.text,
            new.channel,
            new.source,
            new.author_id,
            int(new.anonymous),
            new.author_name,
            new.lang,
            state,
            stamp,
            stamp,
            origin_key,
            iso(due) if due else None,
        ),
    )
    row = await cursor.fetchone()
    await cursor.close()
    if row is None:
        existing = await (
            await tx.execute("SELECT id FROM cases WHERE origin_key = ?", (origin_key,))
        ).fetchone()
        assert existing is not None
        return int(existing[0]), False
    case_id = int(row[0])
    await tx.executemany(
        "INSERT INTO case_attachments (case_id, position, kind, file_id, file_unique_id, "
        "file_name) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (case_id, i, a.kind, a.file_id, a.file_unique_id, a.file_name)
            for i, a in enumerate(new.attachments)
        ],
    )
    await tx.execute(
        "INSERT INTO case_words (rowid, words) VALUES (?, ?)", (case_id, search.words(new.text))
    )
    if state != "filed":  # recorded by an organiser at a later stage: responded already
        await tx.execute("UPDATE cases SET responded_at = ? WHERE id = ?", (stamp, case_id))
    await tx.execute(
        "INSERT INTO case_events (case_id, at, actor_id, actor_role, from_state, to_state, "
        "due_at) VALUES (?, ?, ?, ?, NULL, ?, ?)",
        (case_id, stamp, actor[0], actor[1], state, iso(due) if due else None),
    )
    return case_id, True


async def get_case_tx(tx: Tx, case_id: int) -> Case | None:
    """A case, read inside a transaction (so a move sees the state it changes)."""
    rows = list(
        await tx.execute_fetchall(f"SELECT {CASE_COLUMNS} FROM cases c WHERE c.id = ?", (case_id,))
    )
    return _case(rows[0]) if rows else None


async def set_state(
    tx: Tx,
    case_id: int,
    state: str,
    outcome: str | None,
    due: dt.datetime | None,
    now: dt.datetime,
) -> None:
    """Move a case to ``state``, keeping the milestones the console's rates read (migration
    0009): every expression reads the row as it was before the move, deadline included."""
    await tx.execute(
        MOVE_SQL,
        {
            "state": state,
            "outcome": outcome,
            "due": iso(due) if due else None,
            "now": iso(now),
            "id": case_id,
        },
    )


MOVE_SQL = """
UPDATE cases SET
    state = :state, outcome = :outcome, due_at = :due, updated_at = :now,
    responded_at = CASE WHEN state = 'filed' AND :state != 'filed' AND responded_at IS NULL
                        THEN :now ELSE responded_at END,
    responded_late = CASE WHEN state = 'filed' AND :state != 'filed' AND responded_at IS NULL
                          THEN CASE WHEN due_at IS NOT NULL AND :now > due_at THEN 1 ELSE 0 END
                          ELSE responded_late END,
    finished_at = CASE WHEN :state = 'reopened' THEN NULL
                       WHEN :state IN ('rectified', 'closed') AND finished_at IS NULL THEN :now
                       ELSE finished_at END,
    finished_late = CASE WHEN :state = 'reopened' THEN 0
                         WHEN :state IN ('rectified', 'closed') AND finished_at IS NULL
                         THEN CASE WHEN due_at IS NOT NULL AND :now > due_at THEN 1 ELSE 0 END
                         ELSE finished_late END,
    closed_at = CASE WHEN :state != 'closed' THEN NULL
                     WHEN state = 'closed' THEN closed_at ELSE :now END,
    reopened = reopened + CASE WHEN :state = 'reopened' AND state != 'reopened' THEN 1 ELSE 0 END
WHERE id = :id
"""


async def set_rating(tx: Tx, case_id: int, rating: str) -> None:
    await tx.execute("UPDATE cases SET rating = ? WHERE id = ?", (rating, case_id))


async def add_event(
    tx: Tx,
    case_id: int,
    at: dt.datetime,
    actor_id: int | None,
    actor_role: str,
    move: str,
    from_state: str | None,
    to_state: str,
    reason: str,
    plan: str | None,
    due: dt.datetime | None,
    origin: str | None = None,
) -> int:
    """Record a move in the case's history (once per ``origin``, the update that made
    it); return the event's id."""
    cursor = await tx.execute(
        "INSERT INTO case_events (case_id, at, actor_id, actor_role, move, from_state, "
        "to_state, reason, plan, due_at, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "RETURNING id",
        (
            case_id,
            iso(at),
            actor_id,
            actor_role,
            move,
            from_state,
            to_state,
            reason,
            plan,
            iso(due) if due else None,
            origin,
        ),
    )
    row = await cursor.fetchone()
    await cursor.close()
    return int(row[0])


MADE_BY = "SELECT 1 FROM case_events WHERE origin = ?"


async def made_by(tx: Tx, origin: str) -> bool:
    """Whether a move was made by ``origin`` already (a replay)."""
    return bool(list(await tx.execute_fetchall(MADE_BY, (origin,))))


async def made_by_update(db: Database, origin: str) -> bool:
    """:func:`made_by`, read outside a transaction (a press being answered)."""
    return await db.fetchone(MADE_BY, (origin,)) is not None


async def list_cases(
    db: Database,
    units: Sequence[str] | None = None,
    states: Sequence[str] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Case]:
    """Cases of some units (None: all) in some states (None: all), newest first; ``limit``
    of them after skipping ``offset``."""
    where, params = [], []
    if units is not None:
        where.append(f"c.unit_id IN ({','.join('?' * len(units))})")
        params += list(units)
    if states is not None:
        where.append(f"c.state IN ({','.join('?' * len(states))})")
        params += list(states)
    clause = f"WHERE {' AND '.join(where)} " if where else ""
    rows = await db.fetchall(
        f"SELECT {CASE_COLUMNS} FROM cases c {clause}ORDER BY c.id DESC LIMIT ? OFFSET ?",
        (*params, limit, offset),
    )
    return [_case(r) for r in rows]


async def due_before(db: Database, moment: dt.datetime) -> list[Case]:
    """Open cases whose stage is due before ``moment``, soonest first."""
    rows = await db.fetchall(
        f"SELECT {CASE_COLUMNS} FROM cases c WHERE c.due_at IS NOT NULL AND c.due_at < ? "
        "AND c.state != 'closed' ORDER BY c.due_at",
        (iso(moment),),
    )
    return [_case(r) for r in rows]


async def get_case(db: Database, case_id: int) -> Case | None:
    row = await db.fetchone(f"SELECT {CASE_COLUMNS} FROM cases c WHERE c.id = ?", (case_id,))
    return _case(row) if row else None


async def list_cases_by_author(db: Database, author_id: int, limit: int = 50) -> list[Case]:
    rows = await db.fetchall(
        f"SELECT {CASE_COLUMNS} FROM cases c WHERE c.author_id = ? ORDER BY c.id DESC LIMIT ?",
        (author_id, limit),
    )
    return [_case(r) for r in rows]


async def counts_by_state(db: Database) -> dict[str, int]:
    """How many cases (of every round) are in each state."""
    rows = await db.fetchall("SELECT state, COUNT(*) FROM cases GROUP BY state ORDER BY state")
    return {str(r[0]): int(r[1]) for r in rows}


async def count_cases(db: Database) -> int:
    return int(await db.fetchval("SELECT COUNT(*) FROM cases") or 0)


async def count_cases_by_author(db: Database, author_id: int) -> int:
    return int(
        await db.fetchval("SELECT COUNT(*) FROM cases WHERE author_id = ?", (author_id,)) or 0
    )


async def case_history(db: Database, case_id: int) -> list[CaseEvent]:
    rows = await db.fetchall(
        "SELECT at, actor_id, actor_role, from_state, to_state, reason, move, plan, due_at "
        "FROM case_events WHERE case_id = ? ORDER BY id",
        (case_id,),
    )
    return [
        CaseEvent(
            parse_iso(r["at"]),
            r["actor_id"],
            r["actor_role"],
            r["from_state"],
            r["to_state"],
            r["reason"],
            r["move"],
            r["plan"],
            parse_iso(r["due_at"]) if r["due_at"] else None,
        )
        for r in rows
    ]


async def case_attachments(db: Database, case_id: int) -> Sequence[Attachment]:
    rows = await db.fetchall(
        "SELECT kind, file_id, file_unique_id, file_name FROM case_attachments "
        "WHERE case_id = ? ORDER BY position",
        (case_id,),
    )
    return [Attachment(r["kind"], r["file_id"], r["file_unique_id"], r["file_name"]) for r in rows]


async def find_case_by_origin(db: Database, origin_key: str) -> int | None:
    """The case filed by ``origin_key`` (e.g. a confirmation's update), if any."""
    value = await db.fetchval("SELECT id FROM cases WHERE origin_key = ?", (origin_key,))
    return int(value) if value is not None else None


async def add_findings(
    tx: Tx,
    rows: Sequence[tuple[str, str, str, str, str, int | None]],
    recorded_by: int,
    now: dt.datetime,
) -> int:
    """Record findings from outside the bot, each (unit, severity, ref, text, origin key,
    the bot's case the ref names or None) once per origin key, in the current round; one
    that names one of the bot's cases is that case again and counts in the case's round
    (design §5, §12). How many were new."""
    before = await tx.execute_fetchall("SELECT COUNT(*) FROM findings")
    await tx.executemany(
        "INSERT INTO findings (unit_id, severity, ref, text, recorded_by, recorded_at, "
        "origin_key, round) VALUES (?, ?, ?, ?, ?, ?, ?, "
        f"COALESCE((SELECT round FROM cases WHERE id = ?), {CURRENT})) "
        "ON CONFLICT (origin_key) DO NOTHING",
        [
            (unit, severity, ref, text, recorded_by, iso(now), origin, case_id)
            for unit, severity, ref, text, origin, case_id in rows
        ],
    )
    after = await tx.execute_fetchall("SELECT COUNT(*) FROM findings")
    return int(next(iter(after))[0]) - int(next(iter(before))[0])


@dataclass(frozen=True)
class Finding:
    """A finding of the register: what was found, by whom, and whether it was withdrawn."""

    id: int
    unit_id: str
    severity: str
    ref: str
    text: str
    recorded_by: int
    recorded_at: dt.datetime
    withdrawn_at: dt.datetime | None
    withdrawn_reason: str | None


def read_finding(r: Row) -> Finding:
    withdrawn = parse_iso(r[7]) if r[7] else None
    return Finding(int(r[0]), r[1], r[2], r[3], r[4], int(r[5]), parse_iso(r[6]), withdrawn, r[8])


async def findings_register(db: Database, limit: int, offset: int = 0) -> list[Finding]:
    """The current round's findings from outside, the newest first, withdrawn ones too."""
    rows = await db.fetchall(
        "SELECT id, unit_id, severity, ref, text, recorded_by, recorded_at, withdrawn_at, "
        f"withdrawn_reason FROM findings WHERE round = {CURRENT} "
        "ORDER BY id DESC LIMIT ? OFFSET ?",
        (limit, offset),
    )
    return [read_finding(r) for r in rows]


async def count_findings(db: Database) -> int:
    value = await db.fetchval(f"SELECT COUNT(*) FROM findings WHERE round = {CURRENT}")
    return int(value or 0)


async def get_finding(db: Database, finding_id: int) -> Finding | None:
    rows = await db.fetchall(
        "SELECT id, unit_id, severity, ref, text, recorded_by, recorded_at, withdrawn_at, "
        "withdrawn_reason FROM findings WHERE id = ?",
        (finding_id,),
    )
    return read_finding(rows[0]) if rows else None


async def withdraw_finding(tx: Tx, finding_id: int, by: int, reason: str, now: dt.datetime) -> bool:
    """Withdraw a finding (once): it stays in the register and counts no more."""
    cursor = await tx.execute(
        "UPDATE findings SET withdrawn_at = ?, withdrawn_by = ?, withdrawn_reason = ? "
        "WHERE id = ? AND withdrawn_at IS NULL",
        (iso(now), by, reason, finding_id),
    )
    return cursor.rowcount == 1


@dataclass(frozen=True)
class FindingRow:
    unit_id: str
    ref: str
    severity: str
    channel: str  # "bot" for a case filed here, "external" for a recorded finding


async def findings_by_unit(
    db: Database, round_id: str | None = None
) -> dict[str, list[FindingRow]]:
    """Every substantiated problem of a round (None: the current round) per unit: the bot's
    substantiated cases filed in it (referenced as case-<number>), wherever their
    rectification stands now, and the findings it recorded from outside."""
    rows = await db.fetchall(
        "SELECT unit_id, 'case-' || id AS ref, outcome AS severity, 'bot' AS channel "
        f"FROM cases WHERE outcome IN ('general', 'punished') AND round = COALESCE(?, {CURRENT}) "
        "UNION ALL SELECT unit_id, ref, severity, 'external' FROM findings "
        f"WHERE round = COALESCE(?, {CURRENT}) AND withdrawn_at IS NULL",
        (round_id, round_id),
    )  # in no order: scoring sorts what it counts
    found: dict[str, list[FindingRow]] = {}
    for r in rows:
        found.setdefault(r["unit_id"], []).append(
            FindingRow(r["unit_id"], r["ref"], r["severity"], r["channel"])
        )
    return found


@dataclass(frozen=True)
class UnitCounts:
    unit_id: str
    open: int
    overdue: int
    reopened: int
    total: int


async def counts_by_unit(db: Database, now: dt.datetime) -> dict[str, UnitCounts]:
    rows = await db.fetchall(
        "SELECT unit_id, COUNT(*) FILTER (WHERE state != 'closed') AS open, "
        f"COUNT(*) FILTER (WHERE {overdue_sql('?')}) "
        "AS overdue, COUNT(*) FILTER (WHERE state = 'reopened') AS reopened, "
        "COUNT(*) AS total FROM cases GROUP BY unit_id",
        (iso(now),),
    )
    return {
        r["unit_id"]: UnitCounts(
            r["unit_id"], r["open"] or 0, r["overdue"] or 0, r["reopened"] or 0, r["total"]
        )
        for r in rows
    }


@dataclass(frozen=True)
class CaseText:
    unit_id: str
    item_id: str | None
    channel: str
    text: str


async def texts_since(db: Database, since: dt.datetime, unit_id: str | None) -> list[CaseText]:
    rows = await db.fetchall(
        "SELECT unit_id, item_id, channel, text FROM cases WHERE filed_at >= ? "
        "AND (CAST(? AS TEXT) IS NULL OR unit_id = ?) ORDER BY id",
        (iso(since), unit_id, unit_id),
    )
    return [CaseText(r["unit_id"], r["item_id"], r["channel"], r["text"]) for r in rows]


async def cases_after(db: Database, case_id: int) -> tuple[dict[str, int], int]:
    """The cases filed after ``case_id``: how many per office, and the newest id (a
    digest's counts)."""
    rows = await db.fetchall(
        "SELECT unit_id, COUNT(*), MAX(id) FROM cases WHERE id > ? GROUP BY unit_id", (case_id,)
    )
    counts = {str(r[0]): int(r[1]) for r in rows}
    newest = max((int(r[2]) for r in rows), default=case_id)
    return counts, newest


async def newest_case(db: Database) -> int:
    return int(await db.fetchval("SELECT COALESCE(MAX(id), 0) FROM cases") or 0)
