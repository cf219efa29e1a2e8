"""The ballot key: the secret that turns an evaluator's account into the pseudonym their
ballots are kept under, kept outside the database (design §6).

Whoever holds a copy of the database (a backup, the district's IT) sees ballots, a log
and pseudonyms, but cannot tell whose they are: that needs this key, which lives in its own
file (``EVALBOT_BALLOT_KEY``, by default beside the database). The bot creates it on first
start and says where; keep it as a separate secret. The database keeps only the key's
fingerprint, to refuse a wrong key.

Losing the key loses the link from accounts to their ballots: the ballots already cast
still count and still recount from the log, but their evaluators can no longer see or
change them, and could answer again under a new key. So the bot refuses to start without
the key once ballots exist (``evalbot run --new-ballot-key`` makes a new one on purpose).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from bot.db import ballots as ballot_store
from bot.db.database import Database
from bot.errors import SettingsError

PSEUDONYM_CHARS = 20
ORIGIN_CHARS = 24


@dataclass(frozen=True)
class BallotKey:
    """The key, with what it computes. Never logged, never stored in the database."""

    secret: bytes
    path: Path

    def _mac(self, text: str) -> str:
        return hmac.new(self.secret, text.encode(), hashlib.sha256).hexdigest()

    def pseudonym(self, user_id: int) -> str:
        """The name an evaluator's ballots and log entries are kept under."""
        return self._mac(str(user_id))[:PSEUDONYM_CHARS]

    def origin(self, origin: str) -> str:
        """What a ballot change records as the update that made it (``update:<id>``),
        keyed too, so the log cannot be matched to the inbox's senders."""
        return "k:" + self._mac("origin " + origin)[:ORIGIN_CHARS]

    @property
    def fingerprint(self) -> str:
        """What the database keeps to recognise the key (it reveals nothing of it)."""
        return self._mac("evalbot ballot key fingerprint")[:16]

    def __repr__(self) -> str:
        return f"BallotKey(path={str(self.path)!r})"


def default_path(db_path: Path) -> Path:
    """Beside the database, as its own file (a copy of the database file alone lacks it)."""
    return db_path.with_name(db_path.name + ".ballot-key")


def read(path: Path) -> BallotKey | None:
    if not path.exists():
        return None
    text = path.read_text(encoding="ascii").strip()
    if len(text) < 32:
        raise SettingsError(f"{path}: a ballot key holds at least 32 characters")
    return BallotKey(text.encode("ascii"), path)


def write(path: Path, secret: str) -> BallotKey:
    """Keep ``secret`` as the key at ``path``, readable by this account only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")
    return BallotKey(secret.encode("ascii"), path)


def new_secret() -> str:
    return secrets.token_hex(32)


OLD_KEY = "ballot_secret"  # where the database kept the key before migration 0008
FINGERPRINT = "ballot_key_id"


def open_key(
    peeked: tuple[str | None, bool], key_path: Path, *, new: bool = False
) -> tuple[BallotKey, str]:
    """The ballot key for a database, and what happened, to log: read from ``key_path``;
    or moved there from the database (before migration 0008 it was kept inside); or made,
    when no ballot was ever cast (or ``new`` says to). ``peeked`` is what the database
    holds: the key kept inside it, if any, and whether any ballot was cast
    (:func:`bot.db.database.peek`)."""
    found = read(key_path)
    old, cast = peeked
    if found is not None:
        if old is not None and old.encode("ascii") != found.secret:
            raise SettingsError(
                f"{key_path} is not the ballot key this database's ballots were cast with"
            )
        return found, f"ballot key: {key_path}"
    if old is not None:
        return write(key_path, old), f"ballot key moved out of the database to {key_path}"
    if cast and not new:
        raise SettingsError(
            f"the ballot key {key_path} is missing, and this database holds ballots: "
            "restore the key from where you keep it (set EVALBOT_BALLOT_KEY to its path). "
            "If it is lost, `evalbot run --new-ballot-key` makes a new one: the ballots "
            "cast stay counted, but evaluators can no longer see or change theirs."
        )
    made = write(key_path, new_secret())
    return made, f"ballot key created: {made.path} (keep it apart from the database's backups)"


async def bind(db: Database, key: BallotKey, *, new: bool = False) -> None:
    """Remember the key's fingerprint; refuse a database whose ballots used another key."""
    known = await ballot_store.get_meta(db, FINGERPRINT)
    if known is not None and known != key.fingerprint and not new:
        raise SettingsError(
            f"the ballot key {key.path} is not the one this database's ballots were cast "
            "with: restore the right one (set EVALBOT_BALLOT_KEY to its path)"
        )
    if known != key.fingerprint:
        async with db.single() as tx:
            await ballot_store.set_meta(tx, FINGERPRINT, key.fingerprint)
