"""The running tallies: counts per unit, item, evaluator category and answer, changed in
the same transaction as every ballot (:func:`change`), so the ranking reads a few thousand
counts instead of grouping every ballot. This module is the table's only owner;
``evalbot verify`` checks it against the ballots and the log (bot.db.ballots.snapshot)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.db.database import CURRENT, Database, Statement, Tx

Key = tuple[str, str, str, str, str]  # round, unit, item, category, answer


@dataclass(frozen=True)
class Tally:
    unit_id: str
    item_id: str
    category: str
    answer: str
    count: int


@dataclass(frozen=True)
class CategoryCounts:
    """One unit's answers to one item from one category of evaluators."""

    unit_id: str
    item_id: str
    category: str
    satisfied: int
    basic: int
    unsatisfied: int
    unknown: int


def changes(
    unit_id: str, item_id: str, category: str, before: str | None, after: str | None
) -> list[Statement]:
    """A ballot's answer in the current round went from ``before`` to ``after`` (None: no
    answer): the statements that change the counts (none when the answer stays; two that
    touch different rows otherwise), for the transaction that records the ballot."""
    if before == after:
        return []
    found: list[Statement] = []
    if before is not None:
        found.append((
            f"UPDATE tallies SET count = count - 1 WHERE round = {CURRENT} "
            "AND unit_id = ? AND item_id = ? AND category = ? AND answer = ?",
            (unit_id, item_id, category, before),
        ))  # fmt: skip
    if after is not None:
        found.append((
            "INSERT INTO tallies (round, unit_id, item_id, category, answer, count) "
            f"VALUES ({CURRENT}, ?, ?, ?, ?, 1) "
            "ON CONFLICT (round, unit_id, item_id, category, answer) "
            "DO UPDATE SET count = tallies.count + 1",
            (unit_id, item_id, category, after),
        ))  # fmt: skip
    return found


async def rebuild(tx: Tx) -> None:
    """Recount the current round's running tallies from its ballots (after ballots were
    loaded in bulk)."""
    await tx.execute(f"DELETE FROM tallies WHERE round = {CURRENT}")
    await tx.execute(
        "INSERT INTO tallies (round, unit_id, item_id, category, answer, count) "
        "SELECT round, unit_id, item_id, category, answer, COUNT(*) FROM ballots "
        f"WHERE round = {CURRENT} GROUP BY round, unit_id, item_id, category, answer"
    )


async def tallies(db: Database) -> list[Tally]:
    """The current round's counts per unit, item, category and answer: all that leaves the
    ballots."""
    rows = await db.fetchall(
        "SELECT unit_id, item_id, category, answer, count AS n FROM tallies "
        f"WHERE round = {CURRENT} AND count > 0 ORDER BY unit_id, item_id, category, answer"
    )
    return [Tally(r["unit_id"], r["item_id"], r["category"], r["answer"], r["n"]) for r in rows]


async def by_category(db: Database, round_id: str | None = None) -> list[CategoryCounts]:
    """A round's answers (None: the current round's) per unit, item and category, one row
    each: what scoring counts."""
    rows = await db.fetchall(
        "SELECT unit_id, item_id, category, "
        "SUM(CASE answer WHEN 'satisfied' THEN count ELSE 0 END), "
        "SUM(CASE answer WHEN 'basic' THEN count ELSE 0 END), "
        "SUM(CASE answer WHEN 'unsatisfied' THEN count ELSE 0 END), "
        "SUM(CASE answer WHEN 'unknown' THEN count ELSE 0 END) "
        f"FROM tallies WHERE round = COALESCE(?, {CURRENT}) "
        "GROUP BY unit_id, item_id, category HAVING SUM(count) > 0",
        (round_id,),
    )
    return [
        CategoryCounts(r[0], r[1], r[2], int(r[3]), int(r[4]), int(r[5]), int(r[6])) for r in rows
    ]
