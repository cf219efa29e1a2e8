"""Every query of bot/db/ on both backends: what the flows run on SQLite only is proven here
on PostgreSQL too (the census in tests/support/census.py finds any query left out)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bot.db import Database
from bot.db import audit as audit_store
from bot.db import ballots as ballot_store
from bot.db import cards as card_store
from bot.db import cases as case_store
from bot.db import console as console_store
from bot.db import flows as flow_store
from bot.db import outbox as outbox_store
from bot.db import results as result_store
from bot.db import roles as role_store
from bot.db import rounds as round_store
from bot.db import tallies as tally_store
from bot.db import users as user_store
from bot.db.cases import Attachment
from bot.db.database import drive
from bot.db.flows import Flow
from bot.db.roundfile import RoundFile
from bot.db.users import Profile
from bot.errors import UserError
from tests.support.records import NOW, RESIDENT, new_case

LATER = NOW + dt.timedelta(hours=1)


async def test_a_card_from_its_send_to_its_final_form(db: Database) -> None:
    async with db.transaction() as tx:
        await card_store.new_card(tx, 5)
        await card_store.new_card(tx, 6)
    assert await card_store.get_card(db, 5) == card_store.Card(5, None, "u:0", False)
    async with db.transaction() as tx:
        await card_store.sent(tx, 5, 100)
        await card_store.set_view(tx, 5, "l:1")
        await card_store.adopt(tx, 6, 200)  # sent before a crash, its message found by a press
        await card_store.adopt(tx, 5, 999)  # a card whose message is known keeps it
        await card_store.remember(tx, 6, 150)  # an older card of 6, found by a press
    assert await card_store.get_card(db, 5) == card_store.Card(5, 100, "l:1", False)
    assert (await card_store.get_card(db, 6)) == card_store.Card(6, 200, "u:0", False)
    for user, message in ((5, 100), (6, 200), (6, 150)):
        known = await card_store.known_card(db, user, message)
        assert known is not None and known.current, (user, message)
    assert await card_store.known_card(db, 6, 100) is None  # another evaluator's card
    assert await card_store.known_card(db, 5, 300) is None  # never a card
    assert sorted(await card_store.live(db)) == [5, 6]
    assert await round_store.live_cards(db) == 2
    async with db.transaction() as tx:
        await card_store.set_final(tx, 5, 99)  # not its message: nothing
    assert sorted(await card_store.live(db)) == [5, 6]
    async with db.transaction() as tx:
        await card_store.set_final(tx, 5, 100)
    assert await card_store.get_card(db, 5) == card_store.Card(5, 100, "l:1", True)
    assert await card_store.live(db) == [6] and await round_store.live_cards(db) == 1


async def test_an_authors_cases_counted_listed_and_read(db: Database) -> None:
    photos = (Attachment("photo", "f1", "u1"), Attachment("document", "f2", "u2", "信.pdf"))
    async with db.transaction() as tx:
        await case_store.file_case(tx, new_case(attachments=photos), "u:1", "filed", RESIDENT, NOW)
        await case_store.file_case(
            tx, new_case(author_id=8, unit_id="xijie", text="态度"), "u:2", "filed", RESIDENT, LATER
        )
        await case_store.file_case(tx, new_case(text="又排队"), "u:3", "filed", RESIDENT, LATER)
    assert await case_store.count_cases(db) == 3
    assert await case_store.count_cases_by_author(db, 7) == 2
    assert [c.id for c in await case_store.list_cases_by_author(db, 7)] == [3, 1]
    assert [c.id for c in await case_store.list_cases_by_author(db, 7, limit=1)] == [3]
    assert await case_store.case_attachments(db, 1) == list(photos)
    assert await console_store.attachments(db, 1) == [
        (0, "photo", "f1", None),
        (1, "document", "f2", "信.pdf"),
    ]
    since = await case_store.texts_since(db, LATER, None)
    assert [(t.unit_id, t.text) for t in since] == [("xijie", "态度"), ("dongjie", "又排队")]
    assert [t.text for t in await case_store.texts_since(db, NOW, "dongjie")] == [
        "排队太久",
        "又排队",
    ]


async def test_a_console_link_works_once_and_a_session_until_it_ends(db: Database) -> None:
    async with db.transaction() as tx:
        await console_store.add_link(tx, "link-hash", 42, NOW + dt.timedelta(minutes=10))
        await console_store.add_link(tx, "old-hash", 42, NOW - dt.timedelta(minutes=1))
    async with db.transaction() as tx:
        assert await console_store.use_link(tx, "link-hash", NOW) == 42
        assert await console_store.use_link(tx, "link-hash", NOW) is None  # once
        assert await console_store.use_link(tx, "old-hash", NOW) is None  # expired
        assert await console_store.use_link(tx, "unknown", NOW) is None
        await console_store.add_session(tx, "s1", 42, "csrf-1", LATER, NOW)
    assert await console_store.get_session(db, "s1", NOW) == (42, "csrf-1")
    assert await console_store.get_session(db, "s1", LATER) is None  # expired
    async with db.transaction() as tx:
        await console_store.end_session(tx, "s1")
    assert await console_store.get_session(db, "s1", NOW) is None


async def test_tallies_rebuilt_from_the_ballots_equal_the_running_ones(db: Database) -> None:
    answers = [
        ("v1", "dongjie", "satisfied"),
        ("v2", "dongjie", "basic"),
        ("v1", "xijie", "unknown"),
    ]
    async with db.transaction() as tx:
        for n, (voter, unit, answer) in enumerate(answers):
            await ballot_store.record(tx, voter, unit, "service", "npc", answer, NOW, f"o{n}")
    running = sorted(await tally_store.tallies(db), key=repr)
    assert await ballot_store.answered_counts(db) == {"v1": 2, "v2": 1}
    # what v1's card shows
    assert await ballot_store.answers_of(db, "v1") == {
        ("dongjie", "service"): "satisfied",
        ("xijie", "service"): "unknown",
    }
    assert await ballot_store.any_cast(db)
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM tallies")
        await tally_store.rebuild(tx)
    assert sorted(await tally_store.tallies(db), key=repr) == running
    assert sum(t.count for t in running) == 3


async def test_a_call_cut_short_by_a_stop_is_given_up_and_counted(db: Database) -> None:
    async with db.transaction() as tx:
        for chat in (5, 6, 7):  # one chat's calls go one at a time: three chats
            payload = {"chat_id": chat, "text": "您的意见已受理"}
            await outbox_store.enqueue(tx, chat, "sendMessage", payload, NOW, f"k{chat}")
    calls = await outbox_store.due(db, NOW, 10)
    await outbox_store.mark_sent(db, [calls[0].id], NOW)
    await outbox_store.mark_sending(db, calls[1].id, NOW)  # a stop comes during this call
    assert await outbox_store.counts(db) == outbox_store.OutboxCounts(2, 1, 0)
    assert await outbox_store.give_up_interrupted(db, LATER) == 1
    assert await outbox_store.counts(db) == outbox_store.OutboxCounts(1, 1, 1)
    assert [c.id for c in await outbox_store.due(db, LATER, 10)] == [calls[2].id]


async def test_a_new_round_carries_the_team_and_ends_the_roles_it_asks(db: Database) -> None:
    async with db.transaction() as tx:
        for user in (1, 2, 3):
            await user_store.save_user(tx, Profile(user, "甲", "", "", "zh"), NOW)
            await user_store.record_source(tx, user, "poster-a" if user < 3 else "qr", NOW)
        await role_store.create_invites(tx, ["s1"], "staff", ["dongjie"], None, 1, NOW)
        await role_store.create_invites(tx, ["s2"], "staff", ["xijie"], None, 1, NOW)
        await role_store.create_invites(tx, ["p1"], "supervisor", ["dongjie"], None, 1, NOW)
        for code, user in (("s1", 1), ("s2", 2), ("p1", 3)):
            invite = await role_store.get_invite(tx, code)
            assert invite is not None
            await role_store.use_invite(tx, invite, user, NOW)
        assert await result_store.subscribe(tx, 3, NOW)
        assert await result_store.subscribe(tx, 2, NOW)
        assert await result_store.unsubscribe(tx, 2)
        assert not await result_store.unsubscribe(tx, 2)
        await case_store.file_case(tx, new_case(), "u:1", "filed", RESIDENT, NOW)
    assert await user_store.count_by_source(db) == {"poster-a": 2, "qr": 1}
    assert await round_store.carried(db) == round_store.Carried(2, 1, 1, 1)
    async with db.transaction() as tx:
        seq = await round_store.open_round(tx, RoundFile("2027-shebao", 2027, "2027年度"), LATER)
        assert await round_store.end_team_roles(tx, ["xijie"]) == 1
    assert seq == 2
    found = await round_store.rounds(db)
    assert [(r.seq, r.id, r.closed_at) for r in found] == [
        (1, "2026-shebao", LATER),
        (2, "2027-shebao", None),
    ]
    assert await round_store.carried(db) == round_store.Carried(1, 1, 1, 1)
    async with db.transaction() as tx:
        assert await round_store.end_team_roles(tx, None) == 2
    assert await round_store.carried(db) == round_store.Carried(0, 0, 1, 1)


async def test_ending_a_flow_ends_only_the_run_it_names(db: Database) -> None:
    async with db.transaction() as tx:
        await flow_store.save_flow(tx, Flow(7, "opinion", "text"), NOW)
    flow = await flow_store.get_flow(db, 7)
    assert flow is not None and flow.started_at == NOW
    async with db.transaction() as tx:
        await flow_store.end_flow(tx, 7, NOW - dt.timedelta(seconds=1))  # an earlier run
    assert await flow_store.get_flow(db, 7) is not None
    async with db.transaction() as tx:
        await flow_store.end_flow(tx, 7, NOW)
    assert await flow_store.get_flow(db, 7) is None
    async with db.transaction() as tx:
        await flow_store.save_flow(tx, Flow(7, "record", "unit"), LATER)
        await flow_store.end_flow(tx, 7)
    assert await flow_store.get_flow(db, 7) is None


async def test_a_waiting_choice_is_kept_until_dropped(db: Database) -> None:
    async with db.single() as tx:
        await ballot_store.set_meta(tx, "choice:7", '{"stamp": 1}')
        await ballot_store.set_meta(tx, "choice:7", '{"stamp": 2}')  # a newer one replaces it
    assert await ballot_store.get_meta(db, "choice:7") == '{"stamp": 2}'
    async with db.single() as tx:
        await ballot_store.drop_meta(tx, "choice:7")
    assert await ballot_store.get_meta(db, "choice:7") is None


async def test_the_audit_holds_actions_and_an_organisers_case_moves(db: Database) -> None:
    async with db.transaction() as tx:
        await audit_store.record(tx, 42, "chat", "daily", NOW, "dongjie", "9.50")
        await audit_store.record(tx, 42, "console", "window", LATER, "", "open")
    found = await audit_store.entries(db)
    assert [(e.via, e.action, e.subject, e.detail) for e in found] == [
        ("console", "window", "", "open"),
        ("chat", "daily", "dongjie", "9.50"),
    ]
    assert (await audit_store.entries(db, limit=1, offset=1))[0].at == NOW


async def test_people_are_named_as_telegram_gave_them(db: Database) -> None:
    async with db.transaction() as tx:
        await user_store.save_user(tx, Profile(5, "纠风办", "李主任", "", "zh"), NOW)
        await user_store.save_user(tx, Profile(6, "Ann", "", "", "en"), NOW)
    assert await user_store.names(db, [5, 6, 7]) == {5: "纠风办 李主任", 6: "Ann"}
    assert await user_store.names(db, []) == {}


async def test_invitations_listed_held_and_a_role_ended(db: Database) -> None:
    async with db.transaction() as tx:
        await role_store.create_invites(
            tx, ["e1", "e2"], "evaluator", [], "npc_deputy", 9, NOW, "web:a"
        )
        assert await role_store.made_by(tx, "web:a") == ["e1", "e2"]
        assert await role_store.made_by(tx, "web:b") == []
        await role_store.create_invites(tx, ["s1"], "staff", ["dongjie"], None, 9, LATER)
        for code in ("e1", "s1"):
            invite = await role_store.get_invite(tx, code)
            assert invite is not None
            await role_store.use_invite(tx, invite, 5, LATER)
        assert {g.role for g in await role_store.grants_in(tx, 5)} == {"evaluator", "staff"}
        # the press's step: the evaluator's grants alone, inside a transaction ...
        grants = await drive(tx, role_store.evaluator_grants_steps(5))
        assert [(g.role, g.category) for g in grants] == [("evaluator", "npc_deputy")]
    # ... and on the reader
    assert await db.read(role_store.evaluator_grants_steps(5)) == grants
    assert await db.read(role_store.evaluator_grants_steps(6)) == []
    async with db.transaction() as tx:
        await outbox_store.enqueue(tx, 5, "setChatMenuButton", {}, NOW, "menu:5:u")
        await outbox_store.forget_key(tx, "menu:5:u", LATER)
        assert await outbox_store.enqueue(tx, 5, "setChatMenuButton", {}, LATER, "menu:5:u")
    issued = await role_store.issued(db)
    assert [(i.code, i.used_by) for i in issued] == [("s1", 5), ("e1", 5), ("e2", None)]
    held = await role_store.holders(db)
    assert {(h.role, h.units, h.category) for h in held} == {
        ("staff", ("dongjie",), None),
        ("evaluator", ("",), "npc_deputy"),
    }
    async with db.transaction() as tx:
        assert await role_store.remove_role(tx, 5, "staff") == 1
        assert await role_store.remove_role(tx, 5, "staff") == 0
    assert [h.role for h in await role_store.holders(db)] == ["evaluator"]


async def test_findings_imported_listed_and_withdrawn(db: Database) -> None:
    async with db.transaction() as tx:
        await case_store.file_case(tx, new_case(), "u:1", "filed", RESIDENT, NOW)
        rows = [
            ("dongjie", "general", "A-1", "甲", "import:x:2", None),
            ("xijie", "punished", "case-1", "", "import:x:3", 1),
        ]
        assert await case_store.add_findings(tx, rows, 9, NOW) == 2
        assert await case_store.add_findings(tx, rows, 9, NOW) == 0  # the same origins
    register = await case_store.findings_register(db, 10)
    assert [(f.ref, f.severity, f.withdrawn_at) for f in register] == [
        ("case-1", "punished", None),
        ("A-1", "general", None),
    ]
    assert await case_store.count_findings(db) == 2
    before = await result_store.scores_fingerprint(db)
    async with db.transaction() as tx:
        assert await case_store.withdraw_finding(tx, register[1].id, 9, "重复", LATER)
        assert not await case_store.withdraw_finding(tx, register[1].id, 9, "重复", LATER)
    found = await case_store.get_finding(db, register[1].id)
    assert found is not None and found.withdrawn_reason == "重复" and found.withdrawn_at == LATER
    assert await case_store.get_finding(db, 999) is None
    assert await result_store.scores_fingerprint(db) != before  # the ranking is computed anew
    counted = await case_store.findings_by_unit(db)
    assert {u: [f.ref for f in fs] for u, fs in counted.items()} == {"xijie": ["case-1"]}


async def test_new_cases_counted_for_a_digest(db: Database) -> None:
    assert await case_store.newest_case(db) == 0
    async with db.transaction() as tx:
        for n in range(3):
            await case_store.file_case(tx, new_case(), f"u:{n}", "filed", RESIDENT, NOW)
    assert await case_store.newest_case(db) == 3
    assert await case_store.counts_by_state(db) == {"filed": 3}  # (/metrics)
    assert await case_store.cases_after(db, 1) == ({"dongjie": 2}, 3)
    assert await case_store.cases_after(db, 3) == ({}, 3)


async def test_a_press_whole_in_one_transaction(db: Database) -> None:
    def press(answer: str, origin: str, update: int, allow: bool = True) -> Any:
        return db.run(
            ballot_store.cast_steps(
                "v1", "dongjie", "service", "npc", answer, NOW, origin, update, lambda: allow
            )
        )

    Answered = ballot_store.Answered
    assert await press("satisfied", "o1", 1) == Answered.RECORDED
    assert await press("satisfied", "o1", 1) == Answered.REPLAYED  # the same update again
    assert await press("satisfied", "o2", 2) == Answered.SAME  # a double tap
    with pytest.raises(UserError):  # the throttle refuses a change: nothing written
        await press("basic", "o3", 3, allow=False)
    assert await press("basic", "o4", 4) == Answered.RECORDED
    rows = await db.fetchall("SELECT answer FROM ballots")
    assert [r[0] for r in rows] == ["basic"]
    counts = {r[0]: r[1] for r in await db.fetchall("SELECT answer, count FROM tallies")}
    assert counts == {"satisfied": 0, "basic": 1}
    assert await db.fetchval("SELECT COUNT(*) FROM ballot_log") == 2
