"""The console's figures per office (design §11), on a case history with deadlines met and
missed, a rating and a reopening, computed by hand; and migration 0009 finds the same
figures from the history of a database that had none."""

from __future__ import annotations

import datetime as dt
import sqlite3
from fractions import Fraction
from pathlib import Path

import pytest

from bot.cases.moves import Actor, Fields, apply_move, rate_case
from bot.console import views as console
from bot.db import console as console_store
from bot.db import open_database, search
from bot.db.database import backup_file, migrations
from bot.vocabulary import Move, Rating, Role
from tests.support.harness import ORGANISER, Harness, file_one

DAY = dt.timedelta(days=1)
TEAM = Actor(ORGANISER, frozenset({Role.ORGANISER, Role.STAFF}))


async def scenario(h: Harness) -> dt.datetime:
    """Five cases of 东街 (verification due in 10 days); returns the moment they are judged."""
    start = h.clock.now()
    residents = [h.resident(6000 + n, f"居民{n}") for n in range(5)]
    for r in residents[:4]:
        await file_one(r)  # cases 1–4 at day 0
    await h.settle()
    n = 0

    async def move(case: int, what: Move, at: dt.timedelta, **fields: object) -> None:
        nonlocal n
        n += 1
        h.clock.set(start + at)
        await apply_move(h.services, case, what, TEAM, Fields(**fields), f"t:{n}")  # type: ignore[arg-type]

    # 1: verified day 2, rectified day 15 within its plan's deadline, rated 满意 day 16
    await move(1, Move.VERIFY, 2 * DAY)
    await move(1, Move.GENERAL, 3 * DAY, reason="属实")
    await move(1, Move.PLAN, 4 * DAY, plan="整改", deadline=start + 20 * DAY)
    await move(1, Move.COMPLETE, 15 * DAY, reason="已整改")
    # 2: verification started on day 12 (late), closed as not substantiated on day 13 (late)
    await move(2, Move.VERIFY, 12 * DAY)
    await move(2, Move.UNFOUNDED, 13 * DAY, reason="不属实")
    # 3: untouched: overdue from day 10
    # 4: verified day 1, rectified day 5, rated 不满意: reopened
    await move(4, Move.VERIFY, 1 * DAY)
    await move(4, Move.GENERAL, 1 * DAY + dt.timedelta(hours=1), reason="属实")
    await move(4, Move.PLAN, 2 * DAY, plan="整改", deadline=start + 20 * DAY)
    await move(4, Move.COMPLETE, 5 * DAY, reason="已整改")
    h.clock.set(start + 6 * DAY)
    await rate_case(h.services, 4, residents[3].id, Rating.UNSATISFIED, "rate:4")
    h.clock.set(start + 16 * DAY)
    await rate_case(h.services, 1, residents[0].id, Rating.SATISFIED, "rate:1")
    # 5: filed on day 15, not yet due
    h.clock.set(start + 15 * DAY)
    await file_one(residents[4])
    await h.settle()
    return start + 16 * DAY


def expected(row: console_store.OfficeCounts) -> None:
    assert row.received == 5
    assert (row.responded_on_time, row.respond_judged) == (2, 4)  # 1, 4 of 1, 2, 3, 4
    assert (row.finished_on_time, row.finish_judged) == (1, 3)  # 1 of 1, 2 and overdue 3
    assert row.overdue == 1  # 3
    assert (row.satisfied, row.rated) == (1, 2)  # 1 of 1, 4
    assert row.reopened == 1  # 4
    assert row.closed == 2  # 1 (day 16), 2 (day 13)
    assert abs(row.days_to_close - 29) < 0.01  # the fake clock also runs with the wall clock


@pytest.mark.on_postgresql
async def test_the_rates_per_office(harness: Harness) -> None:
    judged = await scenario(harness)
    harness.clock.set(judged)
    who = await console.viewer(harness.services, ORGANISER, "zh")
    found = await console.overview(harness.services, who)
    [east] = [r for r in found.offices if r.unit_id == "dongjie"]
    expected(east.counts)
    assert east.responded == Fraction(1, 2)
    assert east.on_time == Fraction(1, 3)
    assert east.satisfaction == Fraction(1, 2)
    assert east.mean_days is not None and abs(east.mean_days - 14.5) < 0.01
    assert [c.id for c in found.overdue] == [3]
    assert found.states["closed"] == 2 and found.states["reopened"] == 1


@pytest.mark.on_postgresql
async def test_migration_0009_finds_the_same_figures_in_the_history(
    harness: Harness, tmp_path: Path
) -> None:
    judged = await scenario(harness)
    copy = tmp_path / "before-0009.sqlite3"
    assert backup_file(harness.db_path, copy) == "ok"  # a consistent copy, the bot running
    with sqlite3.connect(copy) as old:  # without 0009's and 0010's work: no milestones, no index
        old.execute("DROP INDEX cases_figures")  # 0010's
        old.execute("DROP INDEX cases_substantiated")
        for column in (
            "responded_at",
            "responded_late",
            "finished_at",
            "finished_late",
            "closed_at",
            "reopened",
        ):
            old.execute(f"ALTER TABLE cases DROP COLUMN {column}")
        for statement in (
            "DROP INDEX cases_by_filed",
            "DROP TABLE case_words",
            "DROP TABLE console_links",
            "DROP TABLE console_sessions",
        ):
            old.execute(statement)
    # 0009 and 0010 again, as they ran on a database at schema 8 (the later migrations, which
    # do not touch what these two fill in, stay applied)
    old = sqlite3.connect(copy)
    old.create_function("evalbot_words", 1, search.words)
    for _, name, sql in migrations():
        if name.startswith(("0009_", "0010_")):
            old.executescript(f"BEGIN;\n{sql}\nCOMMIT;")
    old.close()
    db = await open_database(copy)
    try:
        counts = await console_store.office_counts(db, judged)
        expected(counts["dongjie"])
        found = await db.fetchall("SELECT rowid FROM case_words WHERE case_words MATCH '排队'")
        assert {r["rowid"] for r in found} == {1, 2, 3, 4, 5}
    finally:
        await db.close()
