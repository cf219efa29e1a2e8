"""Daily-work scores, proposals, publications, subscribers and binary payloads."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from typing import Any

from bot.clock import iso, parse_iso
from bot.db.database import CURRENT, Database, Row, Tx


async def set_daily(tx: Tx, unit_id: str, score: Decimal, set_by: int, now: dt.datetime) -> None:
    await tx.execute(
        "INSERT INTO daily_scores (round, unit_id, score, set_by, set_at) "
        f"VALUES ({CURRENT}, ?, ?, ?, ?) "
        "ON CONFLICT (round, unit_id) DO UPDATE SET score = excluded.score, "
        "set_by = excluded.set_by, set_at = excluded.set_at",
        (unit_id, str(score), set_by, iso(now)),
    )


SCORES_FINGERPRINT = """
SELECT (SELECT id FROM current_round) AS round,
       (SELECT MAX(seq) FROM ballot_log) AS ballots,
       (SELECT MAX(id) FROM case_events) AS moves,
       (SELECT COUNT(*) || ':' || COALESCE(MAX(id), 0) || ':' || COUNT(withdrawn_at)
          FROM findings) AS findings,
       (SELECT {concat}(unit_id || '=' || score, ',')
          FROM (SELECT unit_id, score FROM daily_scores
                 WHERE round = (SELECT id FROM current_round) ORDER BY unit_id) AS d) AS daily
"""
CONCAT = {"sqlite": "group_concat", "postgresql": "string_agg"}


async def scores_fingerprint(db: Database) -> tuple[Any, ...]:
    """What the ranking is computed from, in a few cheap lookups: the current round, every
    ballot change is logged, every case outcome changes by a move (an event), findings are
    only added or withdrawn (both counted), and the daily scores are few. Equal
    fingerprints, equal rankings. (An earlier round's ranking depends only on the moves and
    findings, its third and fourth parts.)"""
    row = await db.fetchone(SCORES_FINGERPRINT.format(concat=CONCAT[db.dialect]))
    assert row is not None
    return tuple(row)


async def daily_scores(db: Database, round_id: str | None = None) -> dict[str, Decimal]:
    """A round's daily-work scores (None: the current round's)."""
    rows = await db.fetchall(
        f"SELECT unit_id, score FROM daily_scores WHERE round = COALESCE(?, {CURRENT})",
        (round_id,),
    )
    return {r["unit_id"]: Decimal(r["score"]) for r in rows}


async def add_proposal(
    tx: Tx, unit_id: str, text: str, made_by: int, now: dt.datetime, origin: str
) -> bool:
    cursor = await tx.execute(
        "INSERT INTO proposals (round, unit_id, text, made_by, made_at, origin) "
        f"VALUES ({CURRENT}, ?, ?, ?, ?, ?) ON CONFLICT (origin) DO NOTHING",
        (unit_id, text, made_by, iso(now), origin),
    )
    return cursor.rowcount == 1


@dataclass(frozen=True)
class Proposal:
    unit_id: str
    text: str
    made_at: dt.datetime


async def proposals(db: Database, round_id: str | None = None) -> dict[str, list[Proposal]]:
    """A round's handling proposals (None: the current round's), per unit."""
    rows = await db.fetchall(
        "SELECT unit_id, text, made_at FROM proposals "
        f"WHERE round = COALESCE(?, {CURRENT}) ORDER BY id",
        (round_id,),
    )
    found: dict[str, list[Proposal]] = {}
    for r in rows:
        found.setdefault(r["unit_id"], []).append(
            Proposal(r["unit_id"], r["text"], parse_iso(r["made_at"]))
        )
    return found


@dataclass(frozen=True)
class RankingRow:
    """One office in a ranking as shown and as a publication keeps it: its place and its
    figures with two places ("" where there is none: no ballots, no daily score)."""

    rank: int | None  # None: no ballots, so no democratic score and no place
    unit_id: str
    name: str
    name_en: str
    composite: str
    democratic: str
    complaint: str
    daily: str
    flagged: bool
    ballots: int

    def name_in(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RankingRow:
        """A row as stored (a key added later has its default in an older publication)."""
        known = {f.name for f in fields(cls)}
        given: dict[str, Any] = {"name_en": "", "ballots": 0}
        given.update((k, v) for k, v in data.items() if k in known)
        return cls(**given)


@dataclass(frozen=True)
class Publication:
    id: int
    published_at: dt.datetime
    head: str
    ranking: list[RankingRow]


async def add_publication(
    tx: Tx, by: int, head: str, ranking: list[RankingRow], now: dt.datetime, origin: str
) -> int | None:
    cursor = await tx.execute(
        "INSERT INTO publications (round, published_at, published_by, head, ranking, origin) "
        f"VALUES ({CURRENT}, ?, ?, ?, ?, ?) ON CONFLICT (origin) DO NOTHING RETURNING id",
        (
            iso(now),
            by,
            head,
            json.dumps([r.as_json() for r in ranking], ensure_ascii=False),
            origin,
        ),
    )
    row = await cursor.fetchone()
    await cursor.close()
    return int(row[0]) if row else None


async def publication_by(db: Database, origin: str) -> tuple[Publication, int] | None:
    """The publication made by ``origin`` (an update), and how many chats it went to."""
    row = await db.fetchone(
        "SELECT id, published_at, head, ranking FROM publications WHERE origin = ?", (origin,)
    )
    if row is None:
        return None
    chats = await db.fetchval(
        "SELECT COUNT(DISTINCT chat_id) FROM outbox WHERE dedupe_key LIKE ?",
        (f"publication:{row['id']}:%",),
    )
    return _publication(row), int(chats or 0)


async def last_publication(db: Database, round_id: str | None = None) -> Publication | None:
    """A round's last publication (None: the current round's)."""
    row = await db.fetchone(
        "SELECT id, published_at, head, ranking FROM publications "
        f"WHERE round = COALESCE(?, {CURRENT}) ORDER BY id DESC LIMIT 1",
        (round_id,),
    )
    return None if row is None else _publication(row)


def _publication(row: Row) -> Publication:
    return Publication(
        row["id"],
        parse_iso(row["published_at"]),
        row["head"],
        [RankingRow.from_json(r) for r in json.loads(row["ranking"])],
    )


@dataclass(frozen=True)
class Delivery:
    """One destination of a publication: its text message as the outbox left it."""

    chat_id: int | str
    sent: bool
    failed: bool
    error: str


async def publications_after(db: Database, after_id: int) -> list[tuple[int, int, dt.datetime]]:
    """The publications after ``after_id``, oldest first: id, who published, when."""
    rows = await db.fetchall(
        "SELECT id, published_by, published_at FROM publications WHERE id > ? ORDER BY id",
        (after_id,),
    )
    return [(int(r["id"]), int(r["published_by"]), parse_iso(r["published_at"])) for r in rows]


async def deliveries(db: Database, publication_id: int) -> list[Delivery]:
    """Each destination of a publication (its text; the chart follows it)."""
    rows = await db.fetchall(
        "SELECT chat_id, sent_at, failed_at, error FROM outbox "
        "WHERE dedupe_key LIKE ? AND dedupe_key NOT LIKE ? ORDER BY id",
        (f"publication:{publication_id}:%", f"publication:{publication_id}:%:chart"),
    )
    return [
        Delivery(
            r["chat_id"], r["sent_at"] is not None, r["failed_at"] is not None, r["error"] or ""
        )
        for r in rows
    ]


async def subscribe(tx: Tx, user_id: int, now: dt.datetime) -> bool:
    cursor = await tx.execute(
        "INSERT INTO subscribers (user_id, since) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (user_id, iso(now)),
    )
    return cursor.rowcount == 1


async def unsubscribe(tx: Tx, user_id: int) -> bool:
    cursor = await tx.execute("DELETE FROM subscribers WHERE user_id = ?", (user_id,))
    return cursor.rowcount == 1


async def subscribers(tx: Tx) -> list[int]:
    rows = await tx.execute_fetchall("SELECT user_id FROM subscribers ORDER BY user_id")
    return [int(r[0]) for r in rows]


async def add_blob(tx: Tx, data: bytes, now: dt.datetime) -> int:
    cursor = await tx.execute(
        "INSERT INTO blobs (data, created_at) VALUES (?, ?) RETURNING id", (data, iso(now))
    )
    row = await cursor.fetchone()
    await cursor.close()
    return int(row[0])


async def get_blob(db: Database, blob_id: int) -> bytes | None:
    value = await db.fetchval("SELECT data FROM blobs WHERE id = ?", (blob_id,))
    return bytes(value) if value is not None else None
