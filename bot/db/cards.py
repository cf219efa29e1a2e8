"""Ballot cards: which message is each evaluator's card and which page it shows. Never the
answers: a card is rendered from the ballots (by pseudonym) whenever it is sent or edited,
so nothing kept here or in the outbox links an account to what it answered."""

from __future__ import annotations

from dataclasses import dataclass

from bot.db.database import CURRENT, Database, Script, Writer


@dataclass(frozen=True)
class Card:
    user_id: int
    message_id: int | None  # None until sent
    view: str  # u:<office index> | l:<list page> | t
    final: bool


async def get_card(db: Database, user_id: int) -> Card | None:
    return await db.read(get_card_steps(user_id))


def get_card_steps(user_id: int) -> Script[Card | None]:
    rows = yield (
        "SELECT user_id, message_id, view, final FROM ballot_cards "
        f"WHERE round = {CURRENT} AND user_id = ?",
        (user_id,),
    )
    return Card(int(rows[0][0]), rows[0][1], str(rows[0][2]), bool(rows[0][3])) if rows else None


async def new_card(tx: Writer, user_id: int) -> None:
    """A card is to be sent (the window opened, or the evaluator registered): the card
    they had, if any, is replaced."""
    await tx.execute(
        "INSERT INTO ballot_cards (round, user_id, message_id, view, final) "
        f"VALUES ({CURRENT}, ?, NULL, 'u:0', 0) "
        "ON CONFLICT (round, user_id) DO UPDATE SET message_id = NULL, final = 0",
        (user_id,),
    )


async def sent(tx: Writer, user_id: int, message_id: int) -> None:
    """The card is now this message (the one before it, if any, is no longer live)."""
    await tx.execute(
        f"INSERT INTO ballot_cards (round, user_id, message_id) VALUES ({CURRENT}, ?, ?) "
        "ON CONFLICT (round, user_id) DO UPDATE SET message_id = excluded.message_id, "
        "final = 0",
        (user_id, message_id),
    )
    await _known(tx, user_id, message_id)


async def _known(tx: Writer, user_id: int, message_id: int) -> None:
    await tx.execute(
        "INSERT INTO card_messages (round, user_id, message_id) "
        f"VALUES ({CURRENT}, ?, ?) ON CONFLICT DO NOTHING",
        (user_id, message_id),
    )


async def adopt(tx: Writer, user_id: int, message_id: int) -> None:
    """A card the bot sent but never learned the message of (a crash came between the send
    and its record) is that message: pressed, it proves it reached the evaluator. The
    card's pending send, if any, then sends nothing (it sees the message known)."""
    await tx.execute(
        f"UPDATE ballot_cards SET message_id = ? WHERE round = {CURRENT} AND user_id = ? "
        "AND message_id IS NULL",
        (message_id, user_id),
    )
    await _known(tx, user_id, message_id)


async def remember(tx: Writer, user_id: int, message_id: int) -> None:
    """A card of this round found by a press (sent before a crash, never recorded), though
    another is in use: later presses on it are known even once it shows no buttons."""
    await _known(tx, user_id, message_id)


@dataclass(frozen=True)
class KnownCard:
    round_name: str
    current: bool  # of the current round


async def known_card(db: Database, user_id: int, message_id: int) -> KnownCard | None:
    """Whether that message was ever one of this evaluator's cards, and of which round."""
    return await db.read(known_card_steps(user_id, message_id))


def known_card_steps(user_id: int, message_id: int) -> Script[KnownCard | None]:
    rows = yield (
        f"SELECT r.name, m.round = {CURRENT} FROM card_messages m "
        "JOIN rounds r ON r.id = m.round WHERE m.user_id = ? AND m.message_id = ?",
        (user_id, message_id),
    )
    return KnownCard(str(rows[0][0]), bool(rows[0][1])) if rows else None


async def set_view(tx: Writer, user_id: int, view: str) -> None:
    await tx.execute(
        f"UPDATE ballot_cards SET view = ? WHERE round = {CURRENT} AND user_id = ?",
        (view, user_id),
    )


async def set_final(tx: Writer, user_id: int, message_id: int) -> None:
    """The card shows the final answers and has no buttons (after the close)."""
    await tx.execute(
        f"UPDATE ballot_cards SET final = 1 WHERE round = {CURRENT} AND user_id = ? "
        "AND message_id = ?",
        (user_id, message_id),
    )


async def live(db: Database) -> list[int]:
    """The evaluators whose card of the current round is out and not final."""
    rows = await db.fetchall(
        f"SELECT user_id FROM ballot_cards WHERE round = {CURRENT} AND message_id IS NOT NULL "
        "AND final = 0 ORDER BY user_id"
    )
    return [int(r[0]) for r in rows]
