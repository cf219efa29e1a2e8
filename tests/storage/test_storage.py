"""Storage against real SQLite files: migrations, uniqueness, idempotent writes."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import sqlite3
from pathlib import Path

import pytest

from bot.app import EvalBot
from bot.campaign import load_campaign
from bot.db import Database, inbox, open_database
from bot.db import cases as case_store
from bot.db import console as console_store
from bot.db import flows as flow_store
from bot.db import outbox as outbox_store
from bot.db import users as user_store
from bot.db.ballots import entry_hash
from bot.db.database import migrations
from bot.db.flows import Flow
from bot.db.users import Profile
from bot.errors import DatabaseError, SettingsError
from bot.settings import REPO_EXAMPLE
from tests.support.backends import INTEGRITY_ERRORS
from tests.support.records import NOW, RESIDENT, new_case


async def test_every_migration_builds_the_schema_from_empty(tmp_path: Path) -> None:
    path = tmp_path / "fresh.sqlite3"
    db = await open_database(path, "c1")
    await db.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(migrations())
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {
            "meta",
            "inbox",
            "users",
            "user_sources",
            "drafts",
            "cases",
            "case_attachments",
            "case_events",
            "outbox",
        } <= tables
        columns = {r[1] for r in conn.execute("PRAGMA table_info(cases)")}
        assert {"unit_id", "item_id", "state", "origin_key", "anonymous"} <= columns
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


async def test_reopening_applies_nothing_twice_and_refuses_a_round_not_opened(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.sqlite3"
    await (await open_database(path, "c1")).close()
    await (await open_database(path, "c1")).close()
    with pytest.raises(DatabaseError, match=r"is at the round 'c1', not 'c2'.*round start"):
        await open_database(path, "c2")


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "n.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(DatabaseError, match="newer than this code"):
        await open_database(path)


async def test_inbox_stores_once_and_remembers_the_offset(db: Database) -> None:
    batch = [inbox.Incoming(5, 1, "{}"), inbox.Incoming(6, 2, "{}")]
    assert [u.update_id for u in await inbox.store(db, batch, NOW)] == [5, 6]
    assert await inbox.offset(db) == 7
    again = await inbox.store(db, [inbox.Incoming(6, 2, "{}"), inbox.Incoming(7, 1, "{}")], NOW)
    assert [u.update_id for u in again] == [7]
    assert [p.update_id for p in await inbox.pending(db)] == [5, 6, 7]
    await inbox.mark_done(db, [5, 7], NOW)
    assert [p.update_id for p in await inbox.pending(db)] == [6]
    assert await inbox.prune(db, NOW + dt.timedelta(seconds=1)) == 2


async def test_a_case_is_filed_once_per_origin(db: Database) -> None:
    async with db.transaction() as tx:
        first = await case_store.file_case(tx, new_case(), "update:9", "filed", RESIDENT, NOW)
    async with db.transaction() as tx:
        second = await case_store.file_case(
            tx, new_case(text="x"), "update:9", "filed", RESIDENT, NOW
        )
    assert first == (1, True) and second == (1, False)
    case = await case_store.get_case(db, 1)
    assert case is not None and case.text == "排队太久" and case.attachment_count == 1
    assert len(await case_store.case_history(db, 1)) == 1
    assert await case_store.find_case_by_origin(db, "update:9") == 1


async def test_a_failed_transaction_leaves_nothing(db: Database) -> None:
    with pytest.raises(INTEGRITY_ERRORS):
        async with db.transaction() as tx:
            await case_store.file_case(tx, new_case(), "update:1", "filed", RESIDENT, NOW)
            await tx.execute(
                "INSERT INTO case_events (case_id, at, actor_role, to_state) "
                "VALUES (999, 'x', 'x', 'x')"
            )  # no such case: foreign key
    assert await case_store.get_case(db, 1) is None


async def test_case_numbers_have_no_gaps_after_replays_and_rollbacks(db: Database) -> None:
    """Residents read their case's number and the district counts them: a number skipped
    (a replayed filing, a transaction cut short) would look like a case made to vanish.
    PostgreSQL's identity sequence skips in both; the number is the next after the
    highest, taken inside the serialised write."""
    async with db.transaction() as tx:
        await case_store.file_case(tx, new_case(), "update:1", "filed", RESIDENT, NOW)
    async with db.transaction() as tx:  # a replay of the same filing
        await case_store.file_case(tx, new_case(), "update:1", "filed", RESIDENT, NOW)
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:  # a filing whose transaction fails
            await case_store.file_case(tx, new_case(), "update:2", "filed", RESIDENT, NOW)
            raise RuntimeError("cut short")
    async with db.transaction() as tx:
        third = await case_store.file_case(tx, new_case(), "update:3", "filed", RESIDENT, NOW)
    assert third == (2, True)


async def test_marking_an_update_applied_never_touches_a_flow(db: Database) -> None:
    profile = Profile(7, "王", "", "", "zh")
    await user_store.record_user(db, profile, NOW)
    async with db.transaction() as tx:
        await flow_store.save_flow(tx, Flow(7, "opinion", "text", {"a": 1}, 7, 3), NOW)
        await user_store.mark_applied(tx, 7, 20)
        await user_store.mark_applied(tx, 7, 15)  # an older update never lowers the mark
    seen = await user_store.seen(db, 7)
    assert seen.flow is not None and seen.flow.step == "text" and seen.flow.data == {"a": 1}
    assert seen.is_replay(20) and seen.is_replay(3) and not seen.is_replay(21)
    async with db.transaction() as tx:
        await user_store.mark_applied(tx, 7, 21)
    seen = await user_store.seen(db, 7)
    assert seen.flow is not None and seen.flow.step == "text"  # the flow goes on
    started = seen.flow.started_at
    assert started is not None
    async with db.batch() as tx:  # another run's Cancel ends nothing
        await flow_store.end_flow(tx, 7, started + dt.timedelta(milliseconds=1))
    assert (await user_store.seen(db, 7)).flow is not None
    async with db.batch() as tx:
        await flow_store.end_flow(tx, 7, started)
    seen = await user_store.seen(db, 7)
    assert seen.flow is None and seen.is_replay(21)
    nobody = await user_store.seen(db, 8)
    assert nobody.user is None and nobody.flow is None and not nobody.is_replay(1)


async def test_outbox_queues_a_keyed_notification_once(db: Database) -> None:
    async with db.transaction() as tx:
        assert await outbox_store.enqueue(tx, 7, "sendMessage", {"text": "a"}, NOW, "k1")
        assert not await outbox_store.enqueue(tx, 7, "sendMessage", {"text": "b"}, NOW, "k1")
        assert await outbox_store.enqueue(tx, 7, "sendMessage", {"text": "c"}, NOW)
        assert await outbox_store.enqueue(tx, 8, "sendMessage", {"text": "d"}, NOW)
    due = await outbox_store.due(db, NOW, 10)
    assert [d.payload["text"] for d in due] == ["a", "d"]  # the oldest of each chat
    assert due[0].payload["chat_id"] == 7
    assert [d.payload["text"] for d in await outbox_store.due(db, NOW, 10, busy=[8])] == ["a"]
    await outbox_store.retry_later(db, due[0].id, 7, NOW + dt.timedelta(seconds=5), "429")
    # the chat's later notification waits with it, so the chat still reads them in order
    assert [d.payload["text"] for d in await outbox_store.due(db, NOW, 10)] == ["d"]
    later = await outbox_store.due(db, NOW + dt.timedelta(seconds=5), 10)
    assert [d.payload["text"] for d in later] == ["d", "a"]  # by when each falls due
    await outbox_store.mark_sent(db, [later[1].id], NOW)
    assert [
        d.payload["text"] for d in await outbox_store.due(db, NOW + dt.timedelta(seconds=5), 10)
    ] == ["d", "c"]


async def test_the_shared_pace_hands_out_slots_after_each_other_and_after_a_hold(
    db: Database,
) -> None:
    """Instances sharing a database take the overall rate's slots from one row: each the
    interval after the last, never before now, never inside a 429's hold."""
    first = await outbox_store.take_slot(db, 1000.0, 0.05)
    second = await outbox_store.take_slot(db, 1000.0, 0.05)
    assert (first, second) == (1000.0, pytest.approx(1000.05))
    assert await outbox_store.take_slot(db, 2000.0, 0.05) == 2000.0  # idle: now
    await outbox_store.hold(db, 2010.0)
    await outbox_store.hold(db, 2005.0)  # a shorter hold does not shorten it
    assert await outbox_store.held_until(db) == 2010.0
    assert await outbox_store.take_slot(db, 2001.0, 0.05) == 2010.0


async def test_ballots_of_an_older_database_move_under_the_key_kept_outside(
    tmp_path: Path,
) -> None:
    """Migration 0008 on a database whose ballots were kept by account, with the key of the
    log's pseudonyms inside: the key moves to its own file, the ballots move under the
    pseudonyms the log already holds, and nothing links an account to an answer."""
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    for number, _, sql in migrations()[:7]:
        conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")
    secret = "ab" * 32
    voter = hmac.new(secret.encode(), b"42", hashlib.sha256).hexdigest()[:20]
    with conn:
        conn.execute("INSERT INTO meta VALUES ('campaign_id', '2026-shebao')")
        conn.execute("INSERT INTO meta VALUES ('ballot_secret', ?)", (secret,))
        conn.execute(
            "INSERT INTO ballots VALUES (42, 'dongjie', 'service', 'public_rep', 'basic', 't')"
        )
        conn.execute(
            "INSERT INTO ballot_log (voter, unit_id, item_id, category, answer, at, prev, hash, "
            "origin) VALUES (?, 'dongjie', 'service', 'public_rep', 'basic', 't', ?, ?, "
            "'update:99')",
            (
                voter,
                "0" * 64,
                entry_hash("0" * 64, voter, "dongjie", "service", "public_rep", "basic", "t"),
            ),
        )
        conn.execute("INSERT INTO tallies VALUES ('dongjie', 'service', 'public_rep', 'basic', 1)")
        conn.execute("INSERT INTO ballot_messages VALUES (42, 'dongjie', 'service', 42, 7)")
        body = json.dumps(
            {"update_id": 99, "callback_query": {"from": {"id": 42}, "data": "b:dongjie:service:1"}}
        )
        conn.execute("INSERT INTO inbox VALUES (99, 42, ?, 't', 't', 0)", (body,))
    conn.close()
    bot = EvalBot(load_campaign(REPO_EXAMPLE), "0:offline", str(path), run_jobs=False)
    services = await bot.open_services()
    try:
        key_file = bot.ballot_key_path
        assert key_file.read_text().strip() == secret  # moved out, the same key
        assert services.ballot_key.pseudonym(42) == voter
        rows = await services.db.fetchall("SELECT voter, answer FROM ballots")
        assert [tuple(r) for r in rows] == [(voter, "basic")]
        assert (
            await services.db.fetchval("SELECT value FROM meta WHERE key = 'ballot_secret'") is None
        )
        origin = await services.db.fetchval("SELECT origin FROM ballot_log")
        assert origin == services.ballot_key.origin("update:99") and "update" not in origin
        inbox_row = await services.db.fetchone("SELECT lane, body FROM inbox")
        assert inbox_row is not None and tuple(inbox_row) == (0, "{}")
    finally:
        await services.db.close()
    from bot.ballots.evaluation import verify

    assert (await verify(path)).ok  # the log still recounts to the ballots and the tallies
    # without the key file, a database that holds ballots is refused, saying why
    key_file.unlink()
    with pytest.raises(SettingsError, match=r"ballot key .* is missing"):
        await EvalBot(load_campaign(REPO_EXAMPLE), "0:offline", str(path)).open_services()


async def test_a_database_of_one_campaign_becomes_its_first_round(tmp_path: Path) -> None:
    """Migration 0011 on a database made before rounds: everything it holds belongs to the
    campaign that claimed it, staff stay staff of no round, the window moves to the round;
    the next run of that campaign's file keeps the file with the round."""
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    for name in ("evalbot_words", "evalbot_pseudonym", "evalbot_origin"):
        conn.create_function(name, 1, lambda value: value)  # no data to convert yet
    for number, _, sql in migrations()[:10]:
        conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {number};\nCOMMIT;")
    with conn:
        conn.execute("INSERT INTO meta VALUES ('campaign_id', '2026-shebao')")
        conn.execute("UPDATE meta SET value = 'closed' WHERE key = 'ballot_window'")
        conn.execute(
            "INSERT INTO ballots VALUES ('v1', 'dongjie', 'service', 'public_rep', 'basic', 't')"
        )
        conn.execute("INSERT INTO tallies VALUES ('dongjie', 'service', 'public_rep', 'basic', 1)")
        conn.execute(
            "INSERT INTO ballot_log (voter, unit_id, item_id, category, answer, at, prev, hash, "
            "origin) VALUES ('v1', 'dongjie', 'service', 'public_rep', 'basic', 't', ?, ?, 'o1')",
            (
                "0" * 64,
                entry_hash("0" * 64, "v1", "dongjie", "service", "public_rep", "basic", "t"),
            ),
        )
        conn.execute(
            "INSERT INTO invites (code, role, created_by, created_at) "
            "VALUES ('i1', 'staff', 1, 't')"
        )
        conn.execute("INSERT INTO roles VALUES (7, 'staff', 'dongjie', NULL, 'i1', 't')")
        conn.execute("INSERT INTO roles VALUES (8, 'evaluator', '', 'public_rep', NULL, 't')")
        conn.execute("INSERT INTO daily_scores VALUES ('dongjie', '9', 1, 't')")
        conn.execute(
            "INSERT INTO publications (published_at, published_by, head, ranking, origin) "
            "VALUES ('t', 1, 'h', '[]', 'p1')"
        )
    conn.close()
    campaign = load_campaign(REPO_EXAMPLE)
    bot = EvalBot(campaign, "0:offline", str(path), run_jobs=False, new_ballot_key=True)
    services = await bot.open_services()
    try:
        db = services.db
        for table in (
            "ballots",
            "ballot_log",
            "tallies",
            "daily_scores",
            "publications",
            "invites",
        ):
            assert await db.fetchall(f"SELECT DISTINCT round FROM {table}") != []
            assert {r[0] for r in await db.fetchall(f"SELECT round FROM {table}")} == {
                "2026-shebao"
            }
        roles = {tuple(r) for r in await db.fetchall("SELECT user_id, role, round FROM roles")}
        assert roles == {(7, "staff", ""), (8, "evaluator", "2026-shebao")}
        [only] = services.rounds
        assert (only.id, only.year, only.window) == ("2026-shebao", 2026, "closed")
        assert only.campaign is not None and only.campaign.text.startswith("# The campaign file")
        assert await db.fetchval("SELECT COUNT(*) FROM meta WHERE key LIKE 'ballot_window'") == 0
        assert await db.fetchval("SELECT COUNT(*) FROM meta WHERE key = 'campaign_id'") == 0
    finally:
        await services.db.close()
    from bot.ballots.evaluation import verify

    checked = await verify(path)
    assert checked.ok and checked.heads[0][0] == "2026-shebao" and checked.entries == 1


async def test_overdue_is_one_definition_in_python_and_in_sql(db: Database) -> None:
    """A case is overdue once its deadline has passed, not at the deadline itself, and
    never when closed: the case's own test, the counts per office, the console's figures
    and its filter all agree, on each backend."""
    deadlines = {
        "passed": NOW - dt.timedelta(seconds=1),
        "now": NOW,  # due this very moment: not yet overdue
        "ahead": NOW + dt.timedelta(hours=1),
    }
    async with db.transaction() as tx:
        for n, (name, due) in enumerate(deadlines.items()):
            for closed in (False, True):
                origin = f"update:{2 * n + closed}"
                case_id, _ = await case_store.file_case(
                    tx, new_case(text=name), origin, "filed", RESIDENT, NOW, due
                )
                if closed:
                    await case_store.set_state(tx, case_id, "closed", None, due, NOW)
        await case_store.file_case(tx, new_case(text="none"), "update:9", "filed", RESIDENT, NOW)
    cases = await case_store.list_cases(db, limit=20)
    assert [c.text for c in cases if c.overdue(NOW)] == ["passed"]  # not the closed one
    assert (await case_store.counts_by_unit(db, NOW))["dongjie"].overdue == 1
    assert (await console_store.office_counts(db, NOW))["dongjie"].overdue == 1
    found, total = await console_store.find_cases(
        db, console_store.CaseFilter(units=None, overdue=True), NOW, 20, 0
    )
    assert total == 1 and [c.text for c in found] == ["passed"]
